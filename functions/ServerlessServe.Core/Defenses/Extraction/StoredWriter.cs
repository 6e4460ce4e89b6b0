using System.Globalization;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// One instance that wrote a stored state, and the number of its latest observation the state holds. The stored
/// entity keeps the most recent few (<c>Writers</c>), so that an instance whose write succeeded without it knowing (the
/// answer lost, the retry refused) does not replay those observations a second time in the merge.
/// </summary>
/// <param name="Instance">The writing store's id (random per process).</param>
/// <param name="Sequence">The number of its latest observation in the stored state.</param>
internal readonly record struct StoredWriter(string Instance, long Sequence)
{
    /// <summary>Writers kept in an entity.</summary>
    public const int MaxKept = 16;

    /// <summary>The <c>Writers</c> property: <c>id:sequence</c> pairs, comma-separated, most recent first.</summary>
    public static string Format(IEnumerable<StoredWriter> writers) =>
        string.Join(',', writers.Select(static w => w.Instance + ":" + w.Sequence.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Reads <see cref="Format"/>'s text; malformed pairs are skipped (the merge then replays those observations).</summary>
    public static IReadOnlyList<StoredWriter> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var writers = new List<StoredWriter>();
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.LastIndexOf(':');
            if (colon > 0 && long.TryParse(pair.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && writers.Count < MaxKept)
            {
                writers.Add(new StoredWriter(pair[..colon], sequence));
            }
        }

        return writers;
    }

    /// <summary>The writers after <paramref name="instance"/> wrote up to <paramref name="sequence"/>: it first, then the others, at most <see cref="MaxKept"/>.</summary>
    public static IReadOnlyList<StoredWriter> After(IReadOnlyList<StoredWriter> writers, string instance, long sequence) =>
        [new StoredWriter(instance, sequence), .. writers.Where(w => w.Instance != instance).Take(MaxKept - 1)];
}
