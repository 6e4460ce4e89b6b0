namespace ServerlessServe.Core.Redaction;

/// <summary>
/// Text as the detectors read it (<see cref="TextNormalizer"/>) with, for every character of it, the range of the
/// original text it came from. Without maps the normalised text is the original.
/// </summary>
internal readonly struct NormalizedText(string text, int[]? starts, int[]? ends)
{
    /// <summary>The normalised text.</summary>
    public string Text { get; } = text;

    /// <summary>Where the span of the normalised text that starts at <paramref name="index"/> starts in the original.</summary>
    public int OriginalStart(int index) => starts is null ? index : starts[index];

    /// <summary>
    /// Where the span of the normalised text that ends before <paramref name="end"/> (exclusive, greater than 0) ends in the
    /// original (exclusive).
    /// </summary>
    public int OriginalEnd(int end) => ends is null ? end : ends[end - 1];
}
