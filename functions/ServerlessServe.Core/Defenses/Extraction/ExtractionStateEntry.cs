using Azure;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// One caller's state for one model in an <see cref="ExtractionStateStore"/>: the state in use, the stored entity it is
/// based on (its ETag), and the observations made since that are not in the stored state yet.
/// </summary>
/// <remarks>
/// Two locks: <see cref="Gate"/> guards every field and is held only for work in memory (a request's rows, a
/// snapshot, a replay), never across a storage call; <see cref="Io"/> lets one storage operation (load, write, merge)
/// run at a time for the entry. Order: the store's cache lock, then <see cref="Gate"/>; never the other way.
/// </remarks>
internal sealed class ExtractionStateEntry(ExtractionKey key, ExtractionState state)
{
    public ExtractionKey Key { get; } = key;

    public Lock Gate { get; } = new();

    public SemaphoreSlim Io { get; } = new(1, 1);

    /// <summary>The state every observation goes to: the stored state (when known) plus <see cref="Pending"/>.</summary>
    public ExtractionState State { get; set; } = state;

    /// <summary>The ETag of the stored entity <see cref="State"/> is based on; null when none is known (written by insert).</summary>
    public ETag? ETag { get; set; }

    /// <summary>True once the stored entity has been read (or written, or found absent).</summary>
    public bool Loaded { get; set; }

    /// <summary>Observations not in the stored state, oldest first, at most the store's pending limit (the oldest go first).</summary>
    public List<PendingObservation> Pending { get; } = [];

    /// <summary>Number of the latest observation (the store numbers its observations from 1, across entries).</summary>
    public long Observed { get; set; }

    /// <summary>Number of the latest observation in the stored state, as far as this instance wrote it.</summary>
    public long Saved { get; set; }

    /// <summary>Observations since the last write dropped from <see cref="Pending"/> at its limit: a merge cannot replay them.</summary>
    public long Unreplayable { get; set; }

    /// <summary>Number of the latest observation dropped from <see cref="Pending"/> at its limit.</summary>
    public long DroppedUpTo { get; set; }

    /// <summary>
    /// The writers of the stored entity, as last read or written: each instance's id and the number of its latest
    /// observation the stored state holds, most recent first.
    /// </summary>
    public IReadOnlyList<StoredWriter> Writers { get; set; } = [];

    /// <summary>True when the state holds observations the stored state does not.</summary>
    public bool Dirty => Observed > Saved;

    /// <summary>Signals already raised as security events, by this instance or by whoever stored them.</summary>
    public ExtractionSignals Reported { get; set; }

    /// <summary>When each signal of <see cref="Reported"/> was last raised by this instance, or learnt of from the stored state.</summary>
    public Dictionary<ExtractionSignals, DateTimeOffset> ReportedAt { get; } = [];

    /// <summary>
    /// Signals of <see cref="ReportedAt"/> stamped when read from a state stored without an alarm time, not when an alarm
    /// was raised: never written back as alarm times, or other instances would take the later read time over theirs.
    /// </summary>
    public HashSet<ExtractionSignals> StampedAtRead { get; } = [];

    /// <summary>The action the latest alarm asked for (none in shadow mode); null before any.</summary>
    public ContainmentAction? ReportedUnder { get; set; }

    /// <summary>The policy and model version of the latest request, for an alarm raised by a merge.</summary>
    public ExtractionSubject? Subject { get; set; }

    /// <summary>True once the store has let go of the entry: a request still holding it must look the key up again.</summary>
    public bool Detached { get; set; }
}
