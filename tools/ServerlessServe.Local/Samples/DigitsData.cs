using System.Globalization;
using System.IO.Compression;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// The UCI handwritten-digits data (E. Alpaydin, C. Kaynak 1998; CC BY 4.0; attribution and provenance in
/// <c>Samples/Data/README.md</c>), embedded in this assembly as <c>digits.csv.gz</c>: 1,797 rows of 64 pixel counts
/// 0..16 and the digit 0..9. Read once and shared.
/// </summary>
public static class DigitsData
{
    /// <summary>Pixels per row (an 8×8 image).</summary>
    public const int PixelCount = 64;

    /// <summary>Digits 0..9.</summary>
    public const int ClassCount = 10;

    /// <summary>Largest pixel count (a 4×4 block with every bit set); the smallest is 0.</summary>
    public const int MaxPixel = 16;

    /// <summary>Rows in the file.</summary>
    public const int RowCount = 1797;

    /// <summary>Within each digit, every <c>TestEvery</c>-th row (in file order) is a test row.</summary>
    public const int TestEvery = 4;

    /// <summary>Manifest resource name of the embedded file.</summary>
    public const string ResourceName = "samples/data/digits.csv.gz";

    private static readonly Lazy<DigitsSet> All = new(Read, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<DigitsSplit> Split = new(() => SplitStratified(All.Value), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Every row, in file order.</summary>
    public static DigitsSet LoadAll() => All.Value;

    /// <summary>
    /// The fixed, stratified split: within each digit, taking its rows in file order, the 4th, 8th, 12th … row goes to
    /// test and the rest to train, so each digit keeps its share in both parts (test gets ⌊n/4⌋ of a digit's n rows).
    /// Both parts keep file order. Deterministic; no random numbers.
    /// </summary>
    public static DigitsSplit Load() => Split.Value;

    private static DigitsSplit SplitStratified(DigitsSet all)
    {
        var seen = new int[ClassCount];
        var train = new List<int>();
        var test = new List<int>();
        for (var row = 0; row < all.Count; row++)
        {
            var label = all.Labels[row];
            seen[label]++;
            (seen[label] % TestEvery == 0 ? test : train).Add(row);
        }

        return new DigitsSplit(Subset(all, train), Subset(all, test));
    }

    private static DigitsSet Subset(DigitsSet all, List<int> rows)
    {
        var pixels = new float[rows.Count * PixelCount];
        var labels = new int[rows.Count];
        var fileRows = new int[rows.Count];
        var source = all.Pixels.Span;
        for (var i = 0; i < rows.Count; i++)
        {
            source.Slice(rows[i] * PixelCount, PixelCount).CopyTo(pixels.AsSpan(i * PixelCount, PixelCount));
            labels[i] = all.Labels[rows[i]];
            fileRows[i] = all.FileRows[rows[i]];
        }

        return new DigitsSet(pixels, labels, fileRows);
    }

    private static DigitsSet Read()
    {
        using var resource = typeof(DigitsData).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("The digits data is not embedded in this assembly.");
        using var gzip = new GZipStream(resource, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var pixels = new float[RowCount * PixelCount];
        var labels = new int[RowCount];
        foreach (var (row, fields) in EmbeddedCsv.Rows(reader, "digits.csv", RowCount, PixelCount + 1))
        {
            for (var p = 0; p < PixelCount; p++)
            {
                pixels[(row * PixelCount) + p] = ParseInRange(fields[p], MaxPixel, row);
            }

            labels[row] = ParseInRange(fields[PixelCount], ClassCount - 1, row);
        }

        return new DigitsSet(pixels, labels, Enumerable.Range(0, RowCount).ToArray());
    }

    private static int ParseInRange(string field, int max, int row) =>
        int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= max
            ? value
            : throw new InvalidDataException($"digits.csv line {row + 1} has a value outside 0..{max}.");
}
