using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>admit</c>: load shedding, the first stage of infer. Past <see cref="LimitOptions.GlobalConcurrency"/> requests in
/// flight on this instance a request is refused at once (503, <c>Retry-After: 1</c>) before any token is checked or
/// body read. Its place is held until <see cref="ReleaseLimits"/> closes the request.
/// </summary>
public sealed class AdmitRequest(RequestLimits limits) : IRequestStage<ModelRequestContext>
{
    public string Name => "admit";

    public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (limits.TryAdmit(out var lease) is { } refusal)
        {
            return ValueTask.FromResult<StageOutcome>(refusal);
        }

        context.Leases.Add(lease!);
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
