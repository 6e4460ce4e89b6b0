namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// One request's budget (<see cref="DeadlineOptions.Request"/>) as a cancellation token that also ends when the caller
/// goes away; its clock can be stopped for an <see cref="IUnbudgetedStage"/>. Tells a deadline from a departed caller.
/// </summary>
internal sealed class RequestDeadline : IDisposable
{
    private readonly CancellationTokenSource? _source;
    private readonly CancellationTokenRegistration _callerRegistration;
    private readonly TimeProvider _time;
    private readonly TimeSpan _budget;
    private TimeSpan _spent;
    private long _runningSince;

    public RequestDeadline(TimeSpan budget, TimeProvider time, CancellationToken caller)
    {
        Caller = caller;
        _time = time;
        _budget = budget;
        if (budget == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        if (budget > TimeSpan.Zero)
        {
            _source = new CancellationTokenSource(budget, time);
        }
        else
        {
            // Nothing left (a stage that does not watch its token ran past the request's budget before a capped stage):
            // already at the deadline. The timed constructor would throw for a budget below -1 ms.
            _budget = TimeSpan.Zero;
            _source = new CancellationTokenSource();
            _source.Cancel();
        }

        _callerRegistration = caller.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _source);
        _runningSince = time.GetTimestamp();
    }

    /// <summary>The caller's own token (the connection).</summary>
    public CancellationToken Caller { get; }

    /// <summary>Ends at the deadline or when the caller goes away.</summary>
    public CancellationToken Token => _source?.Token ?? Caller;

    /// <summary>True when the budget, not the caller, ended the request.</summary>
    public bool Expired => _source is { IsCancellationRequested: true } && !Caller.IsCancellationRequested;

    /// <summary>What is left of the budget (infinite when there is none).</summary>
    public TimeSpan Remaining => _source is null
        ? Timeout.InfiniteTimeSpan
        : _budget - _spent - _time.GetElapsedTime(_runningSince);

    /// <summary>Stops the clock (before an <see cref="IUnbudgetedStage"/>).</summary>
    public void Pause()
    {
        if (_source is null || _source.IsCancellationRequested)
        {
            return;
        }

        _spent += _time.GetElapsedTime(_runningSince);
        _source.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    /// <summary>Starts the clock again with what was left.</summary>
    public void Resume()
    {
        if (_source is null || _source.IsCancellationRequested)
        {
            return;
        }

        _runningSince = _time.GetTimestamp();
        var left = _budget - _spent;
        if (left <= TimeSpan.Zero)
        {
            _source.Cancel();
        }
        else
        {
            _source.CancelAfter(left);
        }
    }

    public void Dispose()
    {
        _callerRegistration.Dispose();
        _source?.Dispose();
    }
}
