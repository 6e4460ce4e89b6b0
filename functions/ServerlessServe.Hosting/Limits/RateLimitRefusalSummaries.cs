using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving.Limits;

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
    ILogger<RateLimitRefusalSummaries> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!tally.Enabled)
        {
            Log.EveryRefusalAudited(logger);
            return;
        }

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
            // Stopping: the last summaries are written in StopAsync.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(cancellationToken).ConfigureAwait(false);
    }

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

        var interval = options.Value.RefusalSummaryInterval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var now = time.GetUtcNow();
        var written = await Task.WhenAll(drained.Select(async c =>
        {
            var evidence = c.Counts.ToDictionary(s => s.Key, s => s.Value.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
            evidence["intervalSeconds"] = interval;
            var summary = new SecurityEvent
            {
                Id = SecurityEvent.NewId(),
                Time = now,
                Kind = SecurityEventKinds.RateLimitRefusals,
                Caller = c.Caller,
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
                tally.Restore(c.Caller, c.Counts);
                Log.RateLimitSummaryNotWritten(logger, c.Counts.Values.Sum(), ex);
                return false;
            }
        })).ConfigureAwait(false);
        return written.Count(w => w);
    }
}
