using System.Globalization;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Onnx.Stages;

/// <summary>
/// <c>admit</c> on the inference app, before read: the request's body is counted as it arrives against the bytes the app
/// holds for bodies in flight (<see cref="InferenceOptions.BodyBytesInFlight"/>), until the request ends. Over it the
/// read ends in 503 with <c>Retry-After</c> (<see cref="OnnxModelRunner.Busy"/>), which the gateway passes on without
/// retrying it or counting it toward its breaker, and which a job's item is tried again after. A request alone is let in
/// whatever its size. Every gateway instance bounds its own callers' bodies; without this, the bodies of every instance's
/// requests met here unbounded.
/// </summary>
internal sealed class AdmitBody(InferenceBodyBudget budget, ProtocolLimits limits) : IRequestStage<OnnxInferenceContext>
{
    public string Name => "admit";

    public ValueTask<StageOutcome> RunAsync(OnnxInferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Body is not { } body)
        {
            return ValueTask.FromResult(StageOutcome.Pass);
        }

        var reservation = budget.Reserve();
        context.BodyReservation = reservation;
        // A binary body is read straight into its tensors' arrays (BodyReading.StreamBinaryTensors): its bytes are the
        // tensors, nothing besides (each tensor's array is made as its bytes begin, so the count trails by at most one).
        // A JSON body is held whole and decoded.
        long maxElements = limits.MaxElementsPerRequest;
        long? header = body.InferenceHeaderLength is null ? null
            : long.TryParse(body.InferenceHeaderLength, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        context.Body = body with
        {
            Content = new CountedBodyStream(
                body.Content, reservation, body.ContentLength, length => header is { } h ? Math.Min(4 * Math.Clamp(h, 0, length), 8 * maxElements) : CountedBodyStream.V2Decoded(length, null, maxElements)),
        };
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
