namespace ServerlessServe.Hosting.Signatures;

/// <summary>A periodic timer's next tick, false once the host stops.</summary>
internal static class Ticks
{
    public static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// A token for one refresh of a view that goes stale only while its reads fail: it ends the refresh after
    /// <see cref="RefreshDeadline"/> of <paramref name="interval"/>, so a read that hangs (storage answering a byte at a
    /// time, each byte resetting the client's per-read timeout) counts as a failed one. Without it the view never went
    /// stale: the instance served from its last read, revocations and blocks published since included, for as long as
    /// the read hung.
    /// </summary>
    public static RefreshBound Bounded(TimeSpan interval, TimeProvider time, CancellationToken stoppingToken) => new(RefreshDeadline(interval), time, stoppingToken);

    /// <summary>How long one refresh may take: six intervals, at least 30 s (the storage client's own per-read timeout).</summary>
    public static TimeSpan RefreshDeadline(TimeSpan interval) => interval * 6 > TimeSpan.FromSeconds(30) ? interval * 6 : TimeSpan.FromSeconds(30);
}

/// <summary>One refresh's token: the host stopping, or the refresh's deadline passing (<see cref="Ticks.Bounded"/>).</summary>
internal sealed class RefreshBound : IDisposable
{
    private readonly CancellationTokenSource _deadline;
    private readonly CancellationTokenSource _linked;

    public RefreshBound(TimeSpan deadline, TimeProvider time, CancellationToken stoppingToken)
    {
        _deadline = new CancellationTokenSource(deadline, time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _deadline.Token);
    }

    public CancellationToken Token => _linked.Token;

    public void Dispose()
    {
        _linked.Dispose();
        _deadline.Dispose();
    }
}
