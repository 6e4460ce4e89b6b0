using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Extraction detection log messages (event ids 5400-5499). Model names, caller pseudonyms, counts and signal names;
/// never a query, a raw caller id or a stored state.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 5400, Level = LogLevel.Warning, Message = "Extraction alarm {EventId} for caller {Caller} of model {Model}: {Signals} (action {Action})")]
    public static partial void AlarmRaised(ILogger logger, string eventId, string caller, string model, string signals, string action);

    [LoggerMessage(EventId = 5401, Level = LogLevel.Error, Message = "Extraction alarm {EventId} could not be raised; the request was served and the signal stays recorded in the caller's state")]
    public static partial void AlarmFailed(ILogger logger, Exception exception, string eventId);

    [LoggerMessage(EventId = 5410, Level = LogLevel.Information, Message = "Extraction state table {Table} is ready")]
    public static partial void TableReady(ILogger logger, string table);

    [LoggerMessage(EventId = 5411, Level = LogLevel.Error, Message = "Extraction state table {Table} could not be created or reached; states stay in memory until it can")]
    public static partial void TableUnavailable(ILogger logger, Exception exception, string table);

    [LoggerMessage(EventId = 5412, Level = LogLevel.Warning, Message = "Extraction states: {Failed} of {Dirty} changed state(s) could not be written this pass; they are retried on the next")]
    public static partial void FlushIncomplete(ILogger logger, Exception exception, int failed, int dirty);

    [LoggerMessage(EventId = 5413, Level = LogLevel.Debug, Message = "Extraction states: wrote {Written} state(s), merged {Merged} written meanwhile by another instance")]
    public static partial void Flushed(ILogger logger, int written, int merged);

    [LoggerMessage(EventId = 5414, Level = LogLevel.Warning, Message = "Extraction state of caller {Caller} of model {Model} still in conflict after {Attempts} write(s); retried on the next pass")]
    public static partial void StillInConflict(ILogger logger, string caller, string model, int attempts);

    [LoggerMessage(EventId = 5415, Level = LogLevel.Warning, Message = "Extraction state of caller {Caller} of model {Model}: {Lost} observation(s) beyond the pending limit are missing from the merge with the stored state")]
    public static partial void MergeIncomplete(ILogger logger, string caller, string model, long lost);

    [LoggerMessage(EventId = 5416, Level = LogLevel.Warning, Message = "Extraction state of caller {Caller} of model {Model} in the table is unreadable or of another input length; it is replaced")]
    public static partial void StoredStateReplaced(ILogger logger, Exception? exception, string caller, string model);

    [LoggerMessage(EventId = 5417, Level = LogLevel.Error, Message = "Extraction states: {Count} evicted state(s) dropped unwritten ({Lost} observation(s)) because storage kept failing")]
    public static partial void EvictedUnwritten(ILogger logger, int count, long lost);

    [LoggerMessage(EventId = 5418, Level = LogLevel.Error, Message = "Extraction state of caller {Caller} of model {Model} is {Bytes} bytes, more than a table entity holds; it stays in memory only")]
    public static partial void StateTooLarge(ILogger logger, string caller, string model, int bytes);

    [LoggerMessage(EventId = 5419, Level = LogLevel.Information, Message = "Extraction states: final flush wrote what changed; {Unwritten} state(s) could not be written")]
    public static partial void FinalFlush(ILogger logger, int unwritten);

    [LoggerMessage(EventId = 5420, Level = LogLevel.Warning, Message = "Extraction state of caller {Caller} of model {Model} could not be loaded; it is merged on its next write")]
    public static partial void LoadFailed(ILogger logger, Exception exception, string caller, string model);

    [LoggerMessage(EventId = 5421, Level = LogLevel.Error, Message = "Extraction state pass failed; the next runs on schedule")]
    public static partial void PassFailed(ILogger logger, Exception exception);
}
