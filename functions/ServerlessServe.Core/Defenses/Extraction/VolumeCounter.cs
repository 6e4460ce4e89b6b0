namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Queries in a sliding time window, counted in <see cref="Buckets"/> buckets of a tenth of the window each: the count is
/// that of the bucket holding "now" and the nine before it, so it covers between 0.9 and 1 window (never more). Fixed
/// size whatever the rate. A time earlier than the newest seen (another instance's clock, a late call) counts in the
/// newest bucket.
/// </summary>
internal sealed class VolumeCounter
{
    /// <summary>Buckets per window.</summary>
    public const int Buckets = 10;

    private readonly int[] _counts = new int[Buckets];

    /// <summary>A counter whose buckets are <paramref name="bucketTicks"/> long.</summary>
    public VolumeCounter(long bucketTicks)
    {
        BucketTicks = bucketTicks;
    }

    /// <summary>Length of a bucket in ticks (a tenth of the window).</summary>
    public long BucketTicks { get; }

    /// <summary>Index (UTC ticks / <see cref="BucketTicks"/>) of the newest bucket; <see cref="long.MinValue"/> before the first query.</summary>
    public long CurrentBucket { get; private set; } = long.MinValue;

    /// <summary>The bucket counts, indexed by bucket index modulo <see cref="Buckets"/>.</summary>
    public ReadOnlySpan<int> Counts => _counts;

    /// <summary>Queries in the window ending at the newest bucket.</summary>
    public int Total
    {
        get
        {
            var total = 0L;
            foreach (var count in _counts)
            {
                total += count;
            }

            return (int)Math.Min(int.MaxValue, total);
        }
    }

    /// <summary>A counter with the given state (deserialisation).</summary>
    public static VolumeCounter Restore(long bucketTicks, long currentBucket, ReadOnlySpan<int> counts)
    {
        var counter = new VolumeCounter(bucketTicks) { CurrentBucket = currentBucket };
        counts.CopyTo(counter._counts);
        return counter;
    }

    /// <summary>Counts one query at <paramref name="now"/> and returns the queries now in the window.</summary>
    public int Record(DateTimeOffset now)
    {
        var bucket = now.UtcTicks / BucketTicks;
        if (CurrentBucket == long.MinValue)
        {
            CurrentBucket = bucket;
        }
        else if (bucket > CurrentBucket)
        {
            var steps = Math.Min(bucket - CurrentBucket, Buckets);
            for (var i = 1; i <= steps; i++)
            {
                _counts[Slot(CurrentBucket + i)] = 0;
            }

            CurrentBucket = bucket;
        }

        ref var current = ref _counts[Slot(CurrentBucket)];
        if (current < int.MaxValue)
        {
            current++;
        }

        return Total;
    }

    /// <summary>
    /// Queries in the window ending at <paramref name="now"/>, counting nothing: buckets that have left the window by then
    /// are not counted (a time earlier than the newest seen reads as the newest, as in <see cref="Record"/>).
    /// </summary>
    public int TotalAt(DateTimeOffset now)
    {
        if (CurrentBucket == long.MinValue)
        {
            return 0;
        }

        var steps = now.UtcTicks / BucketTicks - CurrentBucket;
        if (steps <= 0)
        {
            return Total;
        }

        var total = 0L;
        for (var back = 0L; back < Buckets - steps; back++)
        {
            total += _counts[Slot(CurrentBucket - back)];
        }

        return (int)Math.Min(int.MaxValue, total);
    }

    private static int Slot(long bucket) => (int)(bucket % Buckets);
}
