using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Security;
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
    ILogger<AuthRefusalSummaries> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefusalSummaryInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await WriteAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the last summary is written in StopAsync.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes one summary of what was counted since the last; false when there was nothing or it failed.</summary>
    internal async Task<bool> WriteAsync(CancellationToken cancellationToken)
    {
        var counts = tally.Drain();
        if (counts.Count == 0)
        {
            return false;
        }

        var evidence = counts.ToDictionary(c => c.Key, c => c.Value.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
        evidence["intervalSeconds"] = options.Value.RefusalSummaryInterval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var summary = new SecurityEvent
        {
            Id = SecurityEvent.NewId(),
            Time = time.GetUtcNow(),
            Kind = SecurityEventKinds.AuthRefusals,
            Caller = CallerPseudonymizer.Anonymous,
            Evidence = evidence,
            Action = ContainmentAction.None,
        };
        try
        {
            await securityEvents.RaiseAsync(summary, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            tally.Restore(counts);
            Log.RefusalSummaryNotWritten(logger, counts.Values.Sum(), ex);
            return false;
        }
    }
}
