using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>infer</c> on the gateway: the validated request goes to the inference backend for exactly the verified version.
/// Outputs asked for by a released name (such as <c>probabilities_classes</c>) are asked of the model by the name of
/// the output they come from. The output the extraction detector reads is always asked for (redact releases only what
/// the caller asked for), so a caller cannot keep its queries from being observed by asking for other outputs.
/// </summary>
public sealed class InferRemote(IInferenceBackend backend) : IRequestStage<InferenceContext>
{
    public string Name => "infer";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request ?? throw new InvalidOperationException("infer runs after read");
        var model = context.Model ?? throw new InvalidOperationException("infer runs after resolve");
        var forwarded = request.Outputs is null ? request : new InferenceRequest
        {
            Id = request.Id,
            Parameters = request.Parameters,
            Inputs = request.Inputs,
            Outputs = request.Outputs
                .Select(o => ReleasedMetadata.SourceOutput(model, o.Name))
                .Concat(model.Policy.Defenses?.Extraction is { } extraction ? [extraction.Output] : [])
                .Distinct(StringComparer.Ordinal)
                .Select(name => new RequestedOutput(name))
                .ToList(),
        };
        context.Inferred = await backend.InferAsync(model, forwarded, context.RequestId, cancellationToken).ConfigureAwait(false);
        return StageOutcome.Pass;
    }
}
