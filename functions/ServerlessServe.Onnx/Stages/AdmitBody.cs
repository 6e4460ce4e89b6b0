using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Onnx.Stages;

/// <summary>
/// <c>admit</c> on the inference app, before read: the request's body is counted against the bytes the app holds for
/// bodies in flight (<see cref="InferenceOptions.BodyBytesInFlight"/>), until the request ends. Over it: 503 with
/// <c>Retry-After</c>, scoped to the version (<see cref="OnnxModelRunner.Busy"/>), which the gateway passes on without
/// trying again or counting it toward its breaker. A request arriving when nothing else is counted is let in whatever its
/// size. Every gateway instance bounds its own callers' bodies; without this, the bodies of every instance's requests
/// at once met here unbounded.
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

        // A binary body is read straight into its tensors' arrays (BodyReading.StreamBinaryTensors): its length once. A
        // JSON body is held whole and decoded: its length and what its numbers can decode to.
        var length = Math.Clamp(body.ContentLength ?? limits.MaxBodyBytes, 0, limits.MaxBodyBytes);
        var charge = body.InferenceHeaderLength is not null ? length : length + Math.Min(4 * length, 8L * limits.MaxElementsPerRequest);
        if (!budget.TryReserve(charge, out var reservation))
        {
            return ValueTask.FromResult<StageOutcome>(OnnxModelRunner.Busy);
        }

        context.BodyReservation = reservation;
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
