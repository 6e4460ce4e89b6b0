using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Onnx.Stages;

/// <summary>
/// <c>infer</c> on the inference app: one ONNX Runtime run. Its outputs go back to the gateway only (which redacts), so
/// they are also what this app releases.
/// </summary>
internal sealed class RunModel(OnnxModelRunner runner) : IRequestStage<OnnxInferenceContext>
{
    public string Name => "infer";

    public async ValueTask<StageOutcome> RunAsync(OnnxInferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var loaded = context.Loaded ?? throw new InvalidOperationException("infer runs after load");
        var request = context.Request ?? throw new InvalidOperationException("infer runs after read");
        var outputs = await runner.RunAsync(loaded, request.Inputs, request.Outputs?.Select(o => o.Name).ToList(), cancellationToken).ConfigureAwait(false);
        context.Inferred = new InferenceResponse
        {
            ModelName = loaded.Name,
            ModelVersion = loaded.ModelVersion,
            Id = request.Id,
            Outputs = outputs,
        };
        context.Released = context.Inferred;
        return StageOutcome.Pass;
    }
}
