using System.Security.Cryptography;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Samples;

public sealed class BreastCancerDataTests
{
    /// <summary>The pin in Samples/Data/README.md: the file is Debian's python3-sklearn 1.2.1+dfsg-1 copy, unchanged.</summary>
    private const string FileSha256 = "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed";

    [Fact]
    public void Resource_Bytes_MatchThePinnedDigest()
    {
        using var resource = typeof(BreastCancerData).Assembly.GetManifestResourceStream(BreastCancerData.ResourceName)!;

        Assert.Equal(FileSha256, Convert.ToHexStringLower(SHA256.HashData(resource)));
    }

    [Fact]
    public void Load_File_569RowsOf30FeaturesAnd212Malignant()
    {
        var data = BreastCancerData.Load();

        Assert.Equal(BreastCancerData.RowCount, data.Count);
        Assert.Equal(BreastCancerData.RowCount * BreastCancerData.FeatureCount, data.Features.Length);
        Assert.Equal(212, data.Labels.Count(l => l == 0));
        Assert.Equal(357, data.Labels.Count(l => l == 1));
        Assert.Equal(17.99, data.Row(0)[0]);
        Assert.Equal(0.1189, data.Row(0)[29]);
    }

    [Fact]
    public void AsDigitsInput_EveryRow_FeaturesTwiceThenFourZerosWithin0To16()
    {
        var rows = BreastCancerData.AsDigitsInput();

        Assert.Equal(BreastCancerData.RowCount, rows.Count);
        foreach (var row in rows)
        {
            Assert.Equal(DigitsData.PixelCount, row.Length);
            Assert.All(row, v => Assert.InRange(v, 0f, DigitsData.MaxPixel));
            Assert.Equal(row[..30], row[30..60]);
            Assert.Equal(new float[4], row[60..]);
        }
    }

    [Fact]
    public void AsDigitsInput_EachFeature_SpansExactly0To16OverTheDataSet()
    {
        var rows = BreastCancerData.AsDigitsInput();

        for (var f = 0; f < BreastCancerData.FeatureCount; f++)
        {
            Assert.Equal(0f, rows.Min(r => r[f]));
            Assert.Equal(DigitsData.MaxPixel, rows.Max(r => r[f]), 1e-5f);
        }
    }

    [Fact]
    public void AsDigitsInput_TwoCalls_IndependentCopies()
    {
        var first = BreastCancerData.AsDigitsInput();
        first[0][0] = -1;

        Assert.NotEqual(-1, BreastCancerData.AsDigitsInput()[0][0]);
    }
}
