using Azure;
using Azure.Data.Tables;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>The table side of <see cref="ExtractionStateStore"/>: the entity, reads, conditional writes and merges.</summary>
/// <remarks>
/// One entity per caller, model and input width: PartitionKey the model name, RowKey <c>{pseudonym}~{width}</c>
/// (<see cref="ExtractionKey.RowKey"/>; before 2026-12-07 the pseudonym alone, so states stored earlier are not read
/// again: each caller starts afresh once); <c>Format</c> (1),
/// <c>Chunks</c> (n) and <c>State0</c> … <c>State{n−1}</c>, the serialised state (<see cref="ExtractionDetector.Serialize"/>)
/// in binary properties of at most 64 KiB (<see cref="ExtractionStateChunks"/>); <c>Signals</c> (the signals raised
/// ever, as flags: 1 distance distribution, 2 volume, 4 coverage, 8 out of distribution) and <c>Queries</c>, for an
/// operator's queries.
/// Writes replace the whole entity, so a state that shrinks leaves no stale chunk behind.
/// </remarks>
public sealed partial class ExtractionStateStore
{
    /// <summary>Format of the entity's properties.</summary>
    internal const int EntityFormat = 1;

    // An entity holds at most 1 MiB in all; the state's chunks keep 64 KiB of it for the keys and other properties.
    private const int MaxStoredStateBytes = 15 * ExtractionStateChunks.MaxChunkBytes;

    /// <summary>The entity stored for <paramref name="key"/>; null when there is none.</summary>
    internal async Task<StoredState?> ReadAsync(ExtractionKey key, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(key.Model, key.RowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!response.HasValue || response.Value is not { } entity)
        {
            return null;
        }

        var writers = StoredWriter.Parse(entity.GetString("Writers"));
        var alarmed = ParseAlarms(entity.GetString("AlarmedAt"));
        try
        {
            return new StoredState(_detector.Deserialize(StateBytes(entity)), entity.ETag, writers, alarmed);
        }
        catch (InvalidDataException ex)
        {
            Log.StoredStateReplaced(_logger, ex, key.Caller, key.Model);
            return new StoredState(null, entity.ETag, writers, alarmed);
        }
    }

    private static byte[] StateBytes(TableEntity entity)
    {
        if (entity.GetInt32("Format") != EntityFormat || entity.GetInt32("Chunks") is not { } count || count is < 1 or > MaxStoredStateBytes / ExtractionStateChunks.MaxChunkBytes)
        {
            throw new InvalidDataException("The entity is not an extraction state of a known format.");
        }

        var chunks = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            chunks.Add(entity.GetBinary("State" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                ?? throw new InvalidDataException("The entity lacks a chunk of its state."));
        }

        return ExtractionStateChunks.Join(chunks);
    }

    // A caller new to this instance: its stored state, with what was observed meanwhile replayed into it, becomes the
    // state in use. A failure leaves the entry unloaded; its first write (an insert) then meets the stored entity and
    // merges the same way.
    private async Task LoadAsync(ExtractionStateEntry entry, CancellationToken cancellationToken)
    {
        await entry.Io.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (entry.Gate)
            {
                if (entry.Loaded || entry.Detached)
                {
                    return;
                }
            }

            await MergeStoredAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.LoadFailed(_logger, ex, entry.Key.Caller, entry.Key.Model);
        }
        finally
        {
            entry.Io.Release();
        }
    }

    // Under the entry's Io: reads the stored state and adopts stored + pending (the merge). A stored state of another
    // input length, or unreadable, is not merged: ours replaces it on the next write (its ETag is taken for that). Raises
    // an alarm for signals the merged state raises that neither side had reported.
    private async Task MergeStoredAsync(ExtractionStateEntry entry, CancellationToken cancellationToken)
    {
        var stored = await ReadAsync(entry.Key, cancellationToken).ConfigureAwait(false);
        ExtractionSignals gained;
        ExtractionSubject? subject;
        ExtractionVerdict summary;
        long unreplayable;
        lock (entry.Gate)
        {
            entry.Loaded = true;
            if (stored is not { } found)
            {
                entry.ETag = null;
                entry.Writers = [];
                return;
            }

            entry.ETag = found.ETag;
            entry.Writers = found.Writers;
            if (found.State is not { } state || state.InputLength != entry.State.InputLength)
            {
                if (found.State is not null)
                {
                    Log.StoredStateReplaced(_logger, null, entry.Key.Caller, entry.Key.Model);
                }

                return;
            }

            // Observations of ours the stored state already holds (a write of ours that succeeded unbeknown to us) are
            // not replayed twice.
            var held = found.Writers.FirstOrDefault(w => w.Instance == _instance).Sequence;
            if (held > entry.Saved)
            {
                Saved(entry, held);
            }

            var now = _time.GetUtcNow();

            // Signals raised elsewhere (another instance, or this one before a restart) are known as reported, as of
            // when they were last alarmed, so one still active raises again here once its alarm has run its course.
            // Stamped "now" before 2026-12-08, a caller whose block had ended was held off for another whole action's
            // duration on any instance that read its state from the table (review). A state stored without alarm times
            // keeps that.
            var learnt = state.RaisedEver & ~entry.Reported;
            entry.Reported |= learnt;
            foreach (var signal in SingleSignals)
            {
                if ((state.RaisedEver & signal) == 0)
                {
                    continue;
                }

                if (found.AlarmedAt.TryGetValue(signal, out var alarmedAt))
                {
                    // Never later than now: a writer's fast clock (or a hand-edited row) holds no signal off for long.
                    var at = alarmedAt > now ? now : alarmedAt;
                    if (!entry.ReportedAt.TryGetValue(signal, out var mine) || at > mine || entry.StampedAtRead.Contains(signal))
                    {
                        entry.ReportedAt[signal] = at;
                        entry.StampedAtRead.Remove(signal);
                    }
                }
                else if ((learnt & signal) != 0)
                {
                    entry.ReportedAt[signal] = now;
                    entry.StampedAtRead.Add(signal);
                }
            }

            foreach (var observation in entry.Pending)
            {
                observation.ReplayInto(_detector, state);
            }

            unreplayable = entry.Unreplayable;
            entry.State = state;
            gained = state.RaisedEver & ~entry.Reported;
            MarkReported(entry, gained, now);
            subject = entry.Subject;
            summary = _detector.Summarize(state);
        }

        if (unreplayable > 0)
        {
            Log.MergeIncomplete(_logger, entry.Key.Caller, entry.Key.Model, unreplayable);
        }

        if (gained != ExtractionSignals.None && subject is not null)
        {
            await _alarms.RaiseAsync(entry.Key, subject, null, gained, summary, cancellationToken).ConfigureAwait(false);
        }
    }

    // Writes the entry's state when it changed: If-Match its ETag (insert when none), merging and trying again on a
    // conflict, up to the attempts allowed.
    private async Task<WriteResult> WriteAsync(ExtractionStateEntry entry, CancellationToken cancellationToken)
    {
        await entry.Io.WaitAsync(cancellationToken).ConfigureAwait(false);
        var merges = 0;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                byte[] bytes;
                ETag? etag;
                long upTo;
                ExtractionSignals raised;
                long queries;
                IReadOnlyList<StoredWriter> writers;
                string alarmed;
                lock (entry.Gate)
                {
                    if (!entry.Dirty)
                    {
                        return new WriteResult(attempt > 1, attempt > 1, merges, null);
                    }

                    alarmed = FormatAlarms(entry.ReportedAt.Where(a => !entry.StampedAtRead.Contains(a.Key)).ToDictionary());

                    bytes = _detector.Serialize(entry.State);
                    etag = entry.ETag;
                    upTo = entry.Observed;
                    raised = entry.State.RaisedEver;
                    queries = entry.State.QueryCount;
                    writers = StoredWriter.After(entry.Writers, _instance, upTo);
                }

                if (bytes.Length > MaxStoredStateBytes)
                {
                    Log.StateTooLarge(_logger, entry.Key.Caller, entry.Key.Model, bytes.Length);
                    Written(entry, etag, entry.Writers, upTo);
                    return new WriteResult(true, true, merges, null);
                }

                var entity = Entity(entry.Key, bytes, raised, queries, writers, alarmed);
                ETag? stored;
                try
                {
                    var response = etag is { } match
                        ? await _table.UpdateEntityAsync(entity, match, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false)
                        : await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
                    stored = response.Headers.ETag;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
                {
                    // Written (or removed) meanwhile by another instance: merge with what is stored, then write again.
                    stored = null;
                }

                if (stored is { } tag)
                {
                    Written(entry, tag, writers, upTo);
                    return new WriteResult(true, true, merges, null);
                }

                if (attempt >= _options.MaxWriteAttempts)
                {
                    Log.StillInConflict(_logger, entry.Key.Caller, entry.Key.Model, attempt);
                    return new WriteResult(true, false, merges, null);
                }

                await MergeStoredAsync(entry, cancellationToken).ConfigureAwait(false);
                merges++;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new WriteResult(true, false, merges, ex);
        }
        finally
        {
            entry.Io.Release();
        }
    }

    // The write holding observations up to upTo succeeded.
    private static void Written(ExtractionStateEntry entry, ETag? etag, IReadOnlyList<StoredWriter> writers, long upTo)
    {
        lock (entry.Gate)
        {
            entry.ETag = etag;
            entry.Writers = writers;
            entry.Loaded = true;
            Saved(entry, upTo);
        }
    }

    // Under the entry's Gate: the stored state holds this instance's observations up to upTo; they leave the pending log.
    private static void Saved(ExtractionStateEntry entry, long upTo)
    {
        entry.Saved = Math.Max(entry.Saved, upTo);
        var written = 0;
        while (written < entry.Pending.Count && entry.Pending[written].Sequence <= upTo)
        {
            written++;
        }

        entry.Pending.RemoveRange(0, written);
        if (entry.DroppedUpTo <= upTo)
        {
            entry.Unreplayable = 0;
        }
    }

    /// <summary>The entity of a state (its serialised bytes) and the writers it records.</summary>
    internal static TableEntity Entity(ExtractionKey key, byte[] bytes, ExtractionSignals raised, long queries, IReadOnlyList<StoredWriter> writers, string alarmedAt = "")
    {
        var chunks = ExtractionStateChunks.Split(bytes);
        var entity = new TableEntity(key.Model, key.RowKey)
        {
            ["Format"] = EntityFormat,
            ["Chunks"] = chunks.Count,
            ["Signals"] = (int)raised,
            ["Queries"] = queries,
            ["Writers"] = StoredWriter.Format(writers),
            ["AlarmedAt"] = alarmedAt,
        };
        for (var i = 0; i < chunks.Count; i++)
        {
            entity["State" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = chunks[i];
        }

        return entity;
    }

    /// <summary>A stored entity: its state (null when unreadable), ETag, writers, and when each signal was last alarmed.</summary>
    internal sealed record StoredState(ExtractionState? State, ETag ETag, IReadOnlyList<StoredWriter> Writers, IReadOnlyDictionary<ExtractionSignals, DateTimeOffset> AlarmedAt);

    // When each signal was last alarmed, as stored: "signal=unix ms" pairs joined by ';'.
    internal static string FormatAlarms(IReadOnlyDictionary<ExtractionSignals, DateTimeOffset> alarmed) =>
        string.Join(';', alarmed.OrderBy(static a => (int)a.Key).Select(static a => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(int)a.Key}={a.Value.ToUnixTimeMilliseconds()}")));

    // The stored alarm times; a malformed pair, or a signal this build does not know, is skipped.
    internal static Dictionary<ExtractionSignals, DateTimeOffset> ParseAlarms(string? stored)
    {
        var alarmed = new Dictionary<ExtractionSignals, DateTimeOffset>();
        foreach (var pair in (stored ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at > 0
                && int.TryParse(pair.AsSpan(0, at), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var signal)
                && SingleSignals.Contains((ExtractionSignals)signal)
                && long.TryParse(pair.AsSpan(at + 1), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var ms)
                && ms is >= -62_135_596_800_000 and <= 253_402_300_799_999)
            {
                alarmed[(ExtractionSignals)signal] = DateTimeOffset.FromUnixTimeMilliseconds(ms);
            }
        }

        return alarmed;
    }

    /// <summary>What one state's write came to.</summary>
    /// <param name="Attempted">The state had changed, so a write was tried.</param>
    /// <param name="Written">A write succeeded (or the state was given up as too large).</param>
    /// <param name="Merges">Merges with another instance's write before it.</param>
    /// <param name="Failure">What made it fail, other than conflicts.</param>
    private readonly record struct WriteResult(bool Attempted, bool Written, int Merges, Exception? Failure);
}
