namespace ServerlessServe.Core.Identity;

/// <summary>
/// Counts refused bearer tokens by reason between two summaries. Requests that never authenticated are not audited one
/// by one (anyone could otherwise grow the immutable log with forged tokens); instead a background service writes one
/// security record per interval with these counts (<c>auth-refusals</c>), so the audit trail still holds how many
/// tokens were refused and why, at a cost bounded by time, not by traffic. Thread-safe and allocation-free on the
/// request path.
/// </summary>
public sealed class AuthRefusalTally
{
    private static readonly TokenFailure[] Failures = Enum.GetValues<TokenFailure>();
    private readonly long[] _counts = new long[Failures.Max(f => (int)f) + 1];

    /// <summary>Counts one refused token.</summary>
    public void Record(TokenFailure failure)
    {
        var index = (int)failure;
        if ((uint)index < (uint)_counts.Length)
        {
            Interlocked.Increment(ref _counts[index]);
        }
    }

    /// <summary>The counts since the last drain, by reason name (<see cref="TokenFailureNames"/>), and resets them.</summary>
    public IReadOnlyDictionary<string, long> Drain()
    {
        var drained = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var failure in Failures)
        {
            var count = Interlocked.Exchange(ref _counts[(int)failure], 0);
            if (count > 0)
            {
                drained[TokenFailureNames.Of(failure)] = count;
            }
        }

        return drained;
    }

    /// <summary>Puts counts back (a summary that could not be written is retried with the next one).</summary>
    public void Restore(IReadOnlyDictionary<string, long> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        foreach (var failure in Failures)
        {
            if (counts.TryGetValue(TokenFailureNames.Of(failure), out var count) && count > 0)
            {
                Interlocked.Add(ref _counts[(int)failure], count);
            }
        }
    }
}
