using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Onnx.Stages;

/// <summary>
/// <c>resolve</c> on the inference app: the verified version with its ONNX Runtime session (created from verified bytes
/// on first use). A version that cannot load is marked unavailable; without an explicit version the previous good one
/// serves.
/// </summary>
internal sealed class LoadModel(InferenceModelHost models) : IRequestStage<OnnxInferenceContext>
{
    public string Name => "resolve";

    public async ValueTask<StageOutcome> RunAsync(OnnxInferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var loaded = await models.GetAsync(context.ModelName, context.RequestedVersion, cancellationToken).ConfigureAwait(false);
        context.Loaded = loaded;
        context.Model = loaded.Version;
        return StageOutcome.Pass;
    }
}
