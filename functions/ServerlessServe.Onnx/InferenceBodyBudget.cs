using Microsoft.Extensions.Options;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Onnx;

/// <summary>
/// The bytes of request bodies the inference app holds at once (<see cref="InferenceOptions.BodyBytesInFlight"/>), each
/// request's counted as its body arrives (<see cref="CountedBodyStream"/>); past it <see cref="OnnxModelRunner.Busy"/>.
/// No caller's share: only the gateways call this app, and each bounds its own callers.
/// </summary>
internal sealed class InferenceBodyBudget(IOptions<InferenceOptions> options)
{
    private readonly BodyBudget _budget = new(
        (options ?? throw new ArgumentNullException(nameof(options))).Value.BodyBytesInFlight, OnnxModelRunner.Busy);

    /// <summary>Bytes counted now.</summary>
    public long Held => _budget.Held;

    /// <summary>An empty count for one request, given back whole when disposed.</summary>
    public BodyReservation Reserve() => _budget.Reserve();
}
