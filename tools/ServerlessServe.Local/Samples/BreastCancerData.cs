using System.Globalization;

namespace ServerlessServe.Local.Samples;

/// <summary>
/// The UCI Breast Cancer Wisconsin (Diagnostic) data (W. H. Wolberg, W. N. Street, O. L. Mangasarian 1995; CC BY 4.0;
/// attribution and provenance in <c>Samples/Data/README.md</c>), embedded in this assembly as
/// <c>breast_cancer.csv</c>: 569 rows of 30 features and the diagnosis. Nothing is trained on it here: it is a set of
/// real inputs from another domain, mapped into the digits model's input space (<see cref="AsDigitsInput"/>) to test
/// the out-of-distribution screen. Read once and shared.
/// </summary>
public static class BreastCancerData
{
    /// <summary>Features per row.</summary>
    public const int FeatureCount = 30;

    /// <summary>Rows in the file (after its header line).</summary>
    public const int RowCount = 569;

    /// <summary>Manifest resource name of the embedded file.</summary>
    public const string ResourceName = "samples/data/breast_cancer.csv";

    /// <summary>The header line: rows, features, then the names of class 0 and class 1.</summary>
    public const string Header = "569,30,malignant,benign";

    private static readonly Lazy<BreastCancerSet> All = new(Read, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Every row, in file order.</summary>
    public static BreastCancerSet Load() => All.Value;

    /// <summary>
    /// Every row in the digits input space (<see cref="DigitsData.PixelCount"/> values in 0..<see cref="DigitsData.MaxPixel"/>):
    /// each feature is scaled min–max over the 569 rows, so its smallest value becomes 0 and its largest 16 (reals, not
    /// rounded to counts), and a row is laid out as the 30 scaled features, the same 30 again, then 4 zeros (positions
    /// 0..29, 30..59 and 60..63 of the 8×8 image, row by row). Fresh arrays on every call, in file order.
    /// </summary>
    public static IReadOnlyList<float[]> AsDigitsInput()
    {
        var data = Load();
        var features = data.Features.Span;
        var min = new double[FeatureCount];
        var max = new double[FeatureCount];
        Array.Fill(min, double.PositiveInfinity);
        Array.Fill(max, double.NegativeInfinity);
        for (var i = 0; i < features.Length; i++)
        {
            var f = i % FeatureCount;
            min[f] = Math.Min(min[f], features[i]);
            max[f] = Math.Max(max[f], features[i]);
        }

        var rows = new float[data.Count][];
        for (var r = 0; r < data.Count; r++)
        {
            var row = new float[DigitsData.PixelCount];
            for (var f = 0; f < FeatureCount; f++)
            {
                var width = max[f] - min[f];
                var scaled = (float)(width > 0 ? (features[(r * FeatureCount) + f] - min[f]) / width * DigitsData.MaxPixel : 0);
                row[f] = scaled;
                row[FeatureCount + f] = scaled;
            }

            rows[r] = row;
        }

        return rows;
    }

    private static BreastCancerSet Read()
    {
        using var resource = typeof(BreastCancerData).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("The breast-cancer data is not embedded in this assembly.");
        using var reader = new StreamReader(resource);
        if (reader.ReadLine() != Header)
        {
            throw new InvalidDataException($"breast_cancer.csv does not start with the header '{Header}'.");
        }

        var features = new double[RowCount * FeatureCount];
        var labels = new int[RowCount];
        foreach (var (row, fields) in EmbeddedCsv.Rows(reader, "breast_cancer.csv", RowCount, FeatureCount + 1))
        {
            for (var f = 0; f < FeatureCount; f++)
            {
                if (!double.TryParse(fields[f], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                {
                    throw new InvalidDataException($"breast_cancer.csv row {row + 1} has a feature that is not a finite number.");
                }

                features[(row * FeatureCount) + f] = value;
            }

            labels[row] = fields[FeatureCount] switch
            {
                "0" => 0,
                "1" => 1,
                _ => throw new InvalidDataException($"breast_cancer.csv row {row + 1} has a diagnosis other than 0 or 1."),
            };
        }

        return new BreastCancerSet(features, labels);
    }
}
