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

    /// <summary>
    /// Ends the interval and writes one summary per caller counted in it, together (they share the audit log's group
    /// commits); returns how many were written. Those that fail go back to the tally.
    /// </summary>
    internal async Task<int> WriteAsync(CancellationToken cancellationToken)
    {
        var drained = tally.Drain();
        if (drained.Count == 0)
        {
            return 0;
        }

        var written = await Task.WhenAll(drained.Select(c => TryRaiseAsync(
            securityEvents,
            SecurityEventKinds.RateLimitRefusals,
            c.Caller,
            c.Counts,
            ex =>
            {
                tally.Restore(c.Caller, c.Counts);
                Log.RateLimitSummaryNotWritten(logger, c.Counts.Values.Sum(), ex);
            },
            cancellationToken))).ConfigureAwait(false);
        return written.Count(w => w);
    }
}
