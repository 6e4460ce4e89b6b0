using System.Collections.Frozen;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>
/// Decides which of a caller's 429s are audited one by one, and counts the others for one summary record per caller and
/// interval (<c>rate-limit-refusals</c>, written by the gateway's summary service). A caller's first refusal by one of
/// its own limits (<see cref="Stages"/>) in an interval is audited as any request is; its further refusals in the same
/// interval are counted here instead. A caller flooding past its limits so grows the immutable audit log by at most two
/// records per interval, not one per request, and costs other callers' audit commits nothing per refused request.
/// </summary>
/// <remarks>
/// Memory is bounded: at most <see cref="Capacity"/> callers are tracked per interval; past that a refusal is audited
/// one by one, as before, so nothing goes uncounted. Thread-safe; the lock is held for a dictionary lookup and an
/// increment.
/// </remarks>
public sealed class RateLimitRefusalTally
{
    /// <summary>The default number of callers tracked per interval.</summary>
    public const int DefaultCapacity = 16_384;

    /// <summary>
    /// The stages whose 429s are the caller's own limits and refuse before anything reaches a model: the caller's misses,
    /// a containment throttle, its rate and concurrency limits, its daily budget, its running jobs (<c>jobs</c>, a job
    /// submission's); and the refusals of a caller contained (<c>contain-blocked</c>, a blocked caller's 403;
    /// <c>contain-revoked</c>, a revoked token's 401; <c>authenticate-audience</c>, the 403 of a token of this deployment
    /// for another of its apps). A 429 of the inference app (the
    /// <c>infer</c> stage: its queue was full) is not the caller's doing and is always audited one by one.
    /// </summary>
    public static FrozenSet<string> Stages { get; } = FrozenSet.Create(StringComparer.Ordinal, "misses", "contain", "limit", "budget", "jobs", "contain-blocked", "contain-revoked", "authenticate-audience", "read", "read-" + RequestLimits.BodiesReason);

    private readonly Lock _gate = new();
    private readonly FrozenSet<string> _stages;
    private readonly bool _firstPerStage;
    private Dictionary<string, Dictionary<string, long>> _callers = new(StringComparer.Ordinal);

    /// <param name="enabled">False: every refusal is audited one by one (<see cref="LimitOptions.SummarizeRefusals"/>).</param>
    /// <param name="capacity">Callers tracked per interval at most.</param>
    /// <param name="stages">The stages whose refusals are counted; default <see cref="Stages"/> (the gateway's). The admin
    /// app counts its own (<c>AdminRefusalSummaries.Stages</c>).</param>
    /// <param name="firstPerStage">True: a caller's first refusal by each stage in an interval is audited one by one (the
    /// admin app's, whose reasons say different things: a data-plane token is not a revoked one); false: only its first
    /// refusal by any of them (the gateway's).</param>
    public RateLimitRefusalTally(bool enabled = true, int capacity = DefaultCapacity, IEnumerable<string>? stages = null, bool firstPerStage = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Enabled = enabled;
        Capacity = capacity;
        _stages = stages is null ? Stages : stages.ToFrozenSet(StringComparer.Ordinal);
        _firstPerStage = firstPerStage;
    }

    /// <summary>Whether refusals are counted at all; false, <see cref="TryCount"/> always answers false.</summary>
    public bool Enabled { get; }

    /// <summary>Callers tracked per interval at most.</summary>
    public int Capacity { get; }

    /// <summary>
    /// Whether the 429 that <paramref name="stage"/> gave <paramref name="caller"/> (pseudonym) is counted for the summary
    /// (true: do not audit it one by one) or must be audited one by one (false: the caller's first in this interval, or
    /// with firstPerStage its first by this stage; a stage that is not counted; or a full table).
    /// </summary>
    public bool TryCount(string caller, string stage)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(stage);
        if (!Enabled || !_stages.Contains(stage))
        {
            return false;
        }

        lock (_gate)
        {
            if (_callers.TryGetValue(caller, out var counts))
            {
                if (!_firstPerStage || counts.ContainsKey(stage))
                {
                    counts[stage] = counts.GetValueOrDefault(stage) + 1;
                    return true;
                }

                // The caller's first by this stage: audited one by one, and marked with a count of none.
                counts[stage] = 0;
                return false;
            }

            if (_callers.Count < Capacity)
            {
                // The first: audited one by one, and the caller's next refusals in this interval are counted.
                var first = new Dictionary<string, long>(StringComparer.Ordinal);
                if (_firstPerStage)
                {
                    first[stage] = 0;
                }

                _callers[caller] = first;
            }

            return false;
        }
    }

    /// <summary>
    /// Ends the interval: the counts of every caller with refusals not audited one by one, by stage, and a fresh table (each
    /// caller's next refusal is audited one by one again).
    /// </summary>
    public IReadOnlyList<(string Caller, IReadOnlyDictionary<string, long> Counts)> Drain()
    {
        Dictionary<string, Dictionary<string, long>> drained;
        lock (_gate)
        {
            drained = _callers;
            _callers = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        }

        return drained
            .Where(c => c.Value.Values.Any(n => n > 0))
            .OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => (c.Key, (IReadOnlyDictionary<string, long>)new SortedDictionary<string, long>(
                c.Value.Where(n => n.Value > 0).ToDictionary(n => n.Key, n => n.Value, StringComparer.Ordinal), StringComparer.Ordinal)))
            .ToList();
    }

    /// <summary>
    /// Takes back the mark of a refusal <see cref="TryCount"/> answered false for, when its record could not be committed:
    /// the caller's next refusal by <paramref name="stage"/> is then audited one by one, not counted. Refusals already
    /// counted meanwhile stay counted.
    /// </summary>
    public void Forget(string caller, string stage)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(stage);
        lock (_gate)
        {
            if (!_callers.TryGetValue(caller, out var counts))
            {
                return;
            }

            if (counts.TryGetValue(stage, out var counted) && counted == 0)
            {
                counts.Remove(stage);
            }

            if (counts.Count == 0)
            {
                _callers.Remove(caller);
            }
        }
    }

    /// <summary>Puts a caller's counts back (a summary that could not be written is folded into the next).</summary>
    public void Restore(string caller, IReadOnlyDictionary<string, long> counts)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(counts);
        lock (_gate)
        {
            // May pass Capacity by the callers restored: bounded by the previous interval's table.
            if (!_callers.TryGetValue(caller, out var current))
            {
                current = new Dictionary<string, long>(StringComparer.Ordinal);
                _callers[caller] = current;
            }

            foreach (var (stage, count) in counts)
            {
                if (count > 0)
                {
                    current[stage] = current.GetValueOrDefault(stage) + count;
                }
            }
        }
    }
}
