using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Hosting.Audit;

namespace ServerlessServe.Hosting.Limits;

/// <summary>
/// Writes the 429s counted since the last summary (<see cref="RateLimitRefusalTally"/>) to the audit trail every
/// <see cref="LimitOptions.RefusalSummaryInterval"/>: per caller with any, one security record of kind
/// <c>rate-limit-refusals</c>, caller = its pseudonym, evidence = the count by refusing stage and the interval. A summary
/// that cannot be written is folded into the next one; the last is written at shutdown.
/// </summary>
internal sealed class RateLimitRefusalSummaries(
    RateLimitRefusalTally tally,
    ISecurityEvents securityEvents,
    IOptions<LimitOptions> options,
    TimeProvider time,
    ILogger<RateLimitRefusalSummaries> logger) : PeriodicSummaries(time)
{
    protected override TimeSpan Interval => options.Value.RefusalSummaryInterval;

    protected override bool Enabled => tally.Enabled;

    protected override void OnDisabled() => Log.EveryRefusalAudited(logger);

    protected override Task WriteSummariesAsync(CancellationToken cancellationToken) => WriteAsync(cancellationToken);

    /// <summary>Ends the interval and writes one summary per caller counted in it; returns how many were written.</summary>
    internal Task<int> WriteAsync(CancellationToken cancellationToken) => WriteTallyAsync(
        tally, securityEvents, SecurityEventKinds.RateLimitRefusals, (count, ex) => Log.RateLimitSummaryNotWritten(logger, count, ex), cancellationToken);
}
