namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// What <see cref="ControlStore.ListAsync"/> found: the sequences with a stored document, highest first, per model name
/// (or under the empty key), and every sequence with any file (a document or a signature) per key.
/// </summary>
public sealed record ControlListing(IReadOnlyDictionary<string, IReadOnlyList<long>> Documents, IReadOnlyDictionary<string, IReadOnlySet<long>> Taken)
{
    /// <summary>The sequences with a document under <paramref name="key"/>, highest first.</summary>
    public IReadOnlyList<long> Sequences(string key) => Documents.TryGetValue(key, out var sequences) ? sequences : [];

    /// <summary>Whether any file (document or signature) has sequence <paramref name="sequence"/> under <paramref name="key"/>.</summary>
    public bool IsTaken(string key, long sequence) => Taken.TryGetValue(key, out var taken) && taken.Contains(sequence);

    /// <summary>How many sequences have a file under <paramref name="key"/>.</summary>
    public int TakenCount(string key) => Taken.TryGetValue(key, out var taken) ? taken.Count : 0;
}
