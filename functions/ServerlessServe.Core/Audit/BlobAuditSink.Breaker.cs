namespace ServerlessServe.Core.Audit;

/// <summary>
/// Failing fast while the store is down (a circuit breaker over the commit loop's groups), and the withheld notices
/// for records whose callers gave up while their append was in flight.
/// </summary>
public sealed partial class BlobAuditSink
{
    /// <summary>The operation of a job's item (InferenceContext.JobOperation), whose fate its orchestration decides.</summary>
    private const string JobOperation = "job";

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
        if (abandoned is not null)
        {
            QueueWithheldNotices(abandoned);
        }
    }

    /// <summary>
    /// After a resync: a batch whose append failed with an error but which the stored chain now ends with was applied
    /// after all (late). Its records' callers were answered 503, so each gets a withheld notice. Not a job's item: its
    /// audit step is tried again by the orchestration, which finds the record in the chain as committed and releases
    /// the item's result after all (a notice would say the opposite of what happened). Any other uncertain batch can no
    /// longer land once the chain has moved past its position, or is still pending (kept until it is decided).
    /// </summary>
    private void ResolveUncertain(ChainHead head)
    {
        if (_uncertain.Count == 0)
        {
            return;
        }

        var landed = _uncertain.FirstOrDefault(b => b.Head.Seq == head.Seq && string.Equals(b.Head.Hash, head.Hash, StringComparison.Ordinal));
        if (landed is not null)
        {
            Interlocked.Add(ref _recordsCommitted, landed.Records.Count);
            QueueWithheldNotices(landed.Records.Select(static r => r.Record).Where(static r => r.Operation is not (JobOperation or WithheldOperation)).ToList());
            _uncertain.Clear();
            return;
        }

        // Still at their position: they may land yet. Moved past it by other records: they never will (an append is
        // conditional on its position).
        _uncertain.RemoveAll(b => head.Seq != b.Records[0].Record.Seq - 1);
    }

    /// <summary>
    /// Queues a withheld notice for each of <paramref name="records"/> (stored, but their responses never left). On the
    /// loop only (after a commit or a resync), which owns <see cref="_notices"/>.
    /// </summary>
    private void QueueWithheldNotices(List<AuditRecord> records)
    {
        foreach (var record in records)
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
            var pending = new PendingRecord(Prepare(notice));
            var queued = _queue.Writer.TryWrite(pending);
            if (!queued)
            {
                // The queue full (a store that stalled under load) or closed (shutting down): held by the loop and put
                // ahead of its next group, or committed as the last one. Dropped until 2026-12-07, and the log then said
                // released for responses that never left (found in review).
                _notices.Add(pending);
            }

            var requestId = record.RequestId;
            TryLog(logger => Log.WithheldAfterCommit(logger, WriterId, requestId, queued));
        }
    }
}
