namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// A model's signed lifecycle document (<c>lifecycle/{name}/{sequence}.json</c>): which versions are deprecated or
/// retired, and which version serves callers who name none. Each new document has a higher <see cref="Sequence"/> and is
/// a new blob; the highest one that verifies is in force, and an instance never goes back to a lower one.
/// </summary>
public sealed record ModelLifecycle
{
    public const int CurrentSchemaVersion = 1;

    public required int SchemaVersion { get; init; }

    public required string Name { get; init; }

    /// <summary>1 for the first document of a model, one more for each after it.</summary>
    public required long Sequence { get; init; }

    /// <summary>When it was signed (UTC, whole seconds).</summary>
    public required DateTimeOffset Issued { get; init; }

    /// <summary>The key id of the key that signed it.</summary>
    public required string SignerKeyId { get; init; }

    /// <summary>The version that serves callers who name none; null: the newest active version that verifies.</summary>
    public string? Default { get; init; }

    /// <summary>Versions that are not plainly active, by version. A version not listed is active.</summary>
    public required IReadOnlyDictionary<string, VersionLifecycle> Versions { get; init; }

    /// <summary>The state of <paramref name="version"/> at <paramref name="now"/>: a deprecated version past its <c>until</c> is retired.</summary>
    public VersionState StateAt(string version, DateTimeOffset now)
    {
        if (!Versions.TryGetValue(version, out var entry))
        {
            return VersionState.Active;
        }

        return entry.State == VersionState.Deprecated && entry.Until <= now ? VersionState.Retired : entry.State;
    }

    /// <summary>The dates of a version deprecated (and not yet retired) at <paramref name="now"/>; null otherwise.</summary>
    public VersionDeprecation? DeprecationAt(string version, DateTimeOffset now) =>
        Versions.TryGetValue(version, out var entry) && entry is { State: VersionState.Deprecated, Since: { } since, Until: { } until } && until > now
            ? new VersionDeprecation(since, until)
            : null;
}
