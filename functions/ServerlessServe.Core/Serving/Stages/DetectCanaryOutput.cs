using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>canary</c>, right after redact: when a released BYTES, UINT8 or INT8 output holds a canary value (a canary record was read),
/// raises one <see cref="SecurityEventKinds.CanaryOutput"/> event for the request — however many values, elements
/// and outputs carry one — with the canary ids and output names as evidence. The response is still released: the
/// caller reading the canary is the tripwire, and refusing would tell them which record it was. It is released only
/// once the event is committed: when the audit trail cannot take it, the request is refused as unavailable, as the
/// audit stage refuses a request whose own record cannot be written.
/// </summary>
public sealed class DetectCanaryOutput(CanaryAlarm alarm) : IRequestStage<InferenceContext>
{
    public string Name => "canary";

    public async ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var tokens = alarm.Canaries.Tokens;
        if (tokens.IsEmpty || context.Released is not { } released)
        {
            return StageOutcome.Pass;
        }

        SortedSet<string>? ids = null;
        SortedSet<string>? outputs = null;
        foreach (var tensor in released.Outputs)
        {
            if (tensor.DataType is TensorDataType.UInt8 or TensorDataType.Int8)
            {
                // Text as a tensor of bytes (a model emitting UTF-8 or token bytes as UINT8/INT8): its elements searched
                // as one run of bytes, as they are laid out (row after row). Not searched before 2026-12-08 (review).
                ReadOnlySpan<byte> bytes = tensor.DataType == TensorDataType.UInt8
                    ? tensor.As<byte>()
                    : System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensor.As<sbyte>().AsSpan());
                if (tokens.AnyIn(bytes))
                {
                    tokens.FindIn(bytes, ids ??= new SortedSet<string>(StringComparer.Ordinal));
                    (outputs ??= new SortedSet<string>(StringComparer.Ordinal)).Add(tensor.Name);
                }

                continue;
            }

            if (tensor.DataType != TensorDataType.Bytes)
            {
                continue;
            }

            foreach (var element in tensor.As<byte[]>())
            {
                if (tokens.AnyIn(element))
                {
                    tokens.FindIn(element, ids ??= new SortedSet<string>(StringComparer.Ordinal));
                    (outputs ??= new SortedSet<string>(StringComparer.Ordinal)).Add(tensor.Name);
                }
            }
        }

        if (ids is null)
        {
            return StageOutcome.Pass;
        }

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["canaries"] = string.Join(',', ids),
            ["outputs"] = string.Join(',', outputs!),
        };
        return await alarm.RaiseAsync(alarm.Create(SecurityEventKinds.CanaryOutput, context, evidence)).ConfigureAwait(false)
            ? StageOutcome.Pass
            : AuditRequest.Withheld;
    }
}
