using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Audit;

/// <summary>Audit log messages (event ids 5000-5099). Never a payload, a raw caller id or a key.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Audit writer {WriterId} started in container {Container} at seq {Seq}")]
    public static partial void WriterStarted(ILogger logger, string writerId, string container, long seq);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Debug, Message = "Audit writer {WriterId} committed seq {FirstSeq}-{LastSeq} to {Blob}")]
    public static partial void GroupCommitted(ILogger logger, string writerId, long firstSeq, long lastSeq, string blob);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Audit writer {WriterId} could not commit seq {FirstSeq}-{LastSeq}; {Count} record(s) failed closed")]
    public static partial void GroupFailed(ILogger logger, Exception exception, string writerId, long firstSeq, long lastSeq, int count);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Error, Message = "Audit writer {WriterId} does not know its chain tail; {Count} record(s) failed closed")]
    public static partial void GroupFailedHeadUnknown(ILogger logger, Exception exception, string writerId, int count);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Audit writer {WriterId}: append outcome was ambiguous; the stored tail shows seq {Seq} (committed: {Committed})")]
    public static partial void Resynced(ILogger logger, string writerId, long seq, bool committed);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Error, Message = "Audit writer {WriterId} could not read its chain tail; records fail closed until it can")]
    public static partial void ResyncFailed(ILogger logger, Exception exception, string writerId);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Audit writer {WriterId} wrote checkpoint at seq {Seq} (key {KeyId})")]
    public static partial void CheckpointWritten(ILogger logger, string writerId, long seq, string keyId);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "Audit writer {WriterId} could not write checkpoint at seq {Seq}; will retry")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, string writerId, long seq);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Critical, Message = "Audit writer {WriterId}: stored chain is at seq {StoredSeq} but this writer committed seq {CommittedSeq}; refusing to write")]
    public static partial void ChainBehind(ILogger logger, string writerId, long storedSeq, long committedSeq);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Critical, Message = "Audit writer {WriterId}: the stored tail record in {Blob} is not valid; refusing to write")]
    public static partial void TailInvalid(ILogger logger, string writerId, string blob);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Critical, Message = "Audit writer {WriterId}: the stored chain goes on past seq {CommittedSeq} to {StoredSeq} with records this writer did not write; refusing to write (a head would sign them)")]
    public static partial void ChainForeign(ILogger logger, string writerId, long storedSeq, long committedSeq);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Critical, Message = "Audit writer {WriterId}: the commit loop failed; every record fails closed from now on")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string writerId);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Audit writer {WriterId} could not store tree head {TreeSize} in the witness; will retry")]
    public static partial void WitnessFailed(ILogger logger, Exception exception, string writerId, long treeSize);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Warning, Message = "Audit writer {WriterId}: no witness configured (ServerlessServe:Audit:Witness); a truncated or re-signed log cannot be told from a writer that stopped")]
    public static partial void WitnessNotConfigured(ILogger logger, string writerId);

    [LoggerMessage(EventId = 5014, Level = LogLevel.Error, Message = "Audit writer {WriterId}: {Failed} groups failed in a row; refusing records for {BreakDuration}")]
    public static partial void BreakerOpened(ILogger logger, string writerId, int failed, TimeSpan breakDuration);

    [LoggerMessage(EventId = 5015, Level = LogLevel.Information, Message = "Audit writer {WriterId}: the store takes records again")]
    public static partial void BreakerClosed(ILogger logger, string writerId);

    [LoggerMessage(EventId = 5016, Level = LogLevel.Warning, Message = "Audit writer {WriterId}: the record of request {RequestId} was stored after its response was withheld; withheld notice queued: {Queued}")]
    public static partial void WithheldAfterCommit(ILogger logger, string writerId, string requestId, bool queued);

    [LoggerMessage(EventId = 5017, Level = LogLevel.Warning, Message = "Audit writer {WriterId}: a group of its own let go as uncertain landed late (chain now at seq {Seq}); its records' responses were withheld and get no withheld notice")]
    public static partial void EvictedBatchLanded(ILogger logger, string writerId, long seq);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Warning, Message = "Audit receipt index: could not record request {RequestId} ({Reason}); its proof is found only by writer and seq")]
    public static partial void ReceiptIndexFailed(ILogger logger, string requestId, string reason);
}
