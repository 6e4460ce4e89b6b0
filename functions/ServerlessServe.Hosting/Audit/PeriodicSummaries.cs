using System.Globalization;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Hosting.Audit;

/// <summary>
/// A background service that writes what it counted to the audit trail every <see cref="Interval"/>, and once more when
/// the host stops, so a clean stop loses nothing counted (the refusals that are summarised instead of audited one by
/// one: refused tokens, a caller's repeated 429s).
/// </summary>
internal abstract class PeriodicSummaries(TimeProvider time) : BackgroundService
{
    /// <summary>The clock of the interval and of the summaries' times.</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>How often <see cref="WriteSummariesAsync"/> runs.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>False: nothing is counted, so nothing is written (<see cref="OnDisabled"/> says so once at start).</summary>
    protected virtual bool Enabled => true;

    /// <summary>Writes what was counted since the last call; a summary that fails goes back to be written with the next.</summary>
    protected abstract Task WriteSummariesAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Raises one summary: a security event of <paramref name="kind"/> for <paramref name="caller"/> that never acts, its
    /// evidence the counts and the interval in seconds. False when it could not be written; <paramref name="failed"/>
    /// then puts the counts back and says so.
    /// </summary>
    protected async Task<bool> TryRaiseAsync(
        ISecurityEvents securityEvents,
        string kind,
        string caller,
        IReadOnlyDictionary<string, long> counts,
        Action<Exception> failed,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(securityEvents);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(failed);
        var evidence = counts.ToDictionary(c => c.Key, c => c.Value.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
        evidence["intervalSeconds"] = Interval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var summary = new SecurityEvent
        {
            Id = SecurityEvent.NewId(),
            Time = Time.GetUtcNow(),
            Kind = kind,
            Caller = caller,
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
            failed(ex);
            return false;
        }
    }

    /// <summary>
    /// Ends <paramref name="tally"/>'s interval and raises one summary of <paramref name="kind"/> per caller counted in it,
    /// together (they share the audit log's group commits); returns how many were written. Those that fail go back to
    /// the tally, and <paramref name="notWritten"/> logs each with its count.
    /// </summary>
    protected async Task<int> WriteTallyAsync(
        RateLimitRefusalTally tally,
        ISecurityEvents securityEvents,
        string kind,
        Action<long, Exception> notWritten,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tally);
        ArgumentNullException.ThrowIfNull(notWritten);
        var drained = tally.Drain();
        if (drained.Count == 0)
        {
            return 0;
        }

        var written = await Task.WhenAll(drained.Select(c => TryRaiseAsync(
            securityEvents,
            kind,
            c.Caller,
            c.Counts,
            ex =>
            {
                tally.Restore(c.Caller, c.Counts);
                notWritten(c.Counts.Values.Sum(), ex);
            },
            cancellationToken))).ConfigureAwait(false);
        return written.Count(w => w);
    }

    /// <summary>Runs once at start when <see cref="Enabled"/> is false.</summary>
    protected virtual void OnDisabled()
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            OnDisabled();
            return;
        }

        using var timer = new PeriodicTimer(Interval, Time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await WriteSummariesAsync(stoppingToken).ConfigureAwait(false);
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
        if (Enabled)
        {
            await WriteSummariesAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
