using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Audit;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>
/// Writes the tokens refused since the last summary (<see cref="AuthRefusalTally"/>) to the audit trail every
/// <see cref="CallerAuthOptions.RefusalSummaryInterval"/>: one security record of kind <c>auth-refusals</c>, caller
/// <c>anonymous</c>, evidence = the count by reason and the interval. Nothing is written for an interval without
/// refusals, and a summary that cannot be written is folded into the next one; the last is written at shutdown.
/// </summary>
internal sealed class AuthRefusalSummaries(
    AuthRefusalTally tally,
    ISecurityEvents securityEvents,
    IOptions<CallerAuthOptions> options,
    TimeProvider time,
    ILogger<AuthRefusalSummaries> logger) : PeriodicSummaries(time)
{
    protected override TimeSpan Interval => options.Value.RefusalSummaryInterval;

    protected override Task WriteSummariesAsync(CancellationToken cancellationToken) => WriteAsync(cancellationToken);

    /// <summary>Writes one summary of what was counted since the last; false when there was nothing or it failed.</summary>
    internal async Task<bool> WriteAsync(CancellationToken cancellationToken)
    {
        var counts = tally.Drain();
        if (counts.Count == 0)
        {
            return false;
        }

        return await TryRaiseAsync(
            securityEvents,
            SecurityEventKinds.AuthRefusals,
            CallerPseudonymizer.Anonymous,
            counts,
            ex =>
            {
                tally.Restore(counts);
                Log.RefusalSummaryNotWritten(logger, counts.Values.Sum(), ex);
            },
            cancellationToken).ConfigureAwait(false);
    }
}
