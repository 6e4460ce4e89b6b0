namespace ServerlessServe.Core.Audit;

/// <summary>
/// Failing fast while the store is down (a circuit breaker over the commit loop's groups), and the withheld notices
/// for records whose callers gave up while their append was in flight.
/// </summary>
public sealed partial class BlobAuditSink
{
    /// <summary>The operation of a withheld notice (docs/audit.md, "Fail closed").</summary>
    public const string WithheldOperation = "withheld";

    // Owned by the loop.
    private int _failedGroupsInRow;

    // Read by callers, written by the loop: the timestamp (on _time) until which records are refused; 0 when closed.
    private long _openUntil;

    /// <summary>True while the log refuses records because the store failed <see cref="AuditOptions.BreakAfterFailures"/> groups in a row.</summary>
    public bool IsBroken => Volatile.Read(ref _openUntil) is var until and not 0 && _time.GetTimestamp() < until;

    /// <summary>Refuses at once while the breaker is open, with how long until the store is tried again.</summary>
    private void ThrowIfBroken()
    {
        var until = Volatile.Read(ref _openUntil);
        if (until == 0)
        {
            return;
        }

        var left = _time.GetElapsedTime(_time.GetTimestamp(), until);
        if (left > TimeSpan.Zero)
        {
            throw new AuditUnavailableException("The audit log is not taking records while its store is failing.") { RetryAfter = left };
        }
    }

    private void OnGroupFailed()
    {
        if (++_failedGroupsInRow < _options.BreakAfterFailures)
        {
            return;
        }

        Volatile.Write(ref _openUntil, _time.GetTimestamp() + (long)(_options.BreakDuration.TotalSeconds * _time.TimestampFrequency));
        var failed = _failedGroupsInRow;
        TryLog(logger => Log.BreakerOpened(logger, WriterId, failed, _options.BreakDuration));
    }

    /// <summary>
    /// A group is stored: the breaker closes, and a withheld notice is queued for each of <paramref name="abandoned"/>
    /// (records stored after their callers had already been answered 503), so the log says that those responses never
    /// left. A notice has no waiter; one that cannot be queued is logged.
    /// </summary>
    private void OnGroupCommitted(List<AuditRecord>? abandoned)
    {
        if (Volatile.Read(ref _openUntil) != 0)
        {
            Volatile.Write(ref _openUntil, 0);
            TryLog(logger => Log.BreakerClosed(logger, WriterId));
        }

        _failedGroupsInRow = 0;
        if (abandoned is null)
        {
            return;
        }

        foreach (var record in abandoned)
        {
            var notice = new AuditEvent
            {
                Time = _time.GetUtcNow(),
                RequestId = record.RequestId,
                Caller = record.Caller,
                Operation = WithheldOperation,
                Model = record.Model,
                ModelVersion = record.ModelVersion,
                ManifestDigest = record.ManifestDigest,
                InputSha256 = record.InputSha256,
                OutputSha256 = record.OutputSha256,
                Stages = new Dictionary<string, string>(StringComparer.Ordinal),
                Outcome = "unavailable",
                LatencyMs = 0,
            };
            var queued = _queue.Writer.TryWrite(new PendingRecord(Prepare(notice)));
            var requestId = record.RequestId;
            TryLog(logger => Log.WithheldAfterCommit(logger, WriterId, requestId, queued));
        }
    }
}
