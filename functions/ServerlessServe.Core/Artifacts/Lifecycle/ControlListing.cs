namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// What <see cref="ControlStore.ListAsync"/> found: the sequences with a stored document, highest first, per model name
/// (or under the empty key), and the highest sequence with any file per key.
/// </summary>
public sealed record ControlListing(IReadOnlyDictionary<string, IReadOnlyList<long>> Documents, IReadOnlyDictionary<string, long> Highest)
{
    /// <summary>The sequences with a document under <paramref name="key"/>, highest first.</summary>
    public IReadOnlyList<long> Sequences(string key) => Documents.TryGetValue(key, out var sequences) ? sequences : [];
}
