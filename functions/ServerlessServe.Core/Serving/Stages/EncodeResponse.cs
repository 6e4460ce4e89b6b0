using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>encode</c>: the released outputs in the form the request asked for (JSON, or binary per output). An output JSON
/// cannot carry (NaN, non-UTF-8 BYTES) is refused here, before audit. A policy with <c>padding</c> pads the body to
/// its size bucket (<see cref="ResponsePadding"/>).
/// </summary>
public sealed class EncodeResponse : IRequestStage<InferenceContext>
{
    public string Name => "encode";

    public ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var released = context.Released ?? throw new InvalidOperationException("encode runs after redact");
        var request = context.Request ?? throw new InvalidOperationException("encode runs after read");
        var encoded = V2Json.WriteResponse(released, request);
        context.Encoded = context.Model?.Policy.Padding is { } padding ? ResponsePadding.Pad(encoded, padding.Buckets) : encoded;
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
