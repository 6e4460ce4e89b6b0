using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>The foreign inputs the out-of-distribution screen is tested with.</summary>
internal static class ForeignSets
{
    /// <summary>Rows of uniform noise.</summary>
    public const int NoiseRows = 500;

    /// <summary>Seed of the noise (the date of the NDSS 2018 symposium's first day, 18 February 2018).</summary>
    public const ulong NoiseSeed = 20180218;

    /// <summary>Names of the sets, in the order <see cref="Build"/> returns them.</summary>
    public const string Noise = "uniform noise";

    public const string Blank = "blank";

    public const string Saturated = "saturated";

    public const string Inverted = "inverted digits";

    public const string BreastCancer = "breast cancer";

    /// <summary>
    /// Uniform noise (<see cref="NoiseRows"/> rows of integer counts drawn uniformly from 0..16 by a seeded
    /// <see cref="DeterministicRandom"/>), a blank image (all 0), a saturated one (all 16), every held-out test digit
    /// inverted (16 − x), and the breast-cancer rows mapped into the digits space (<see cref="BreastCancerData.AsDigitsInput"/>).
    /// </summary>
    public static IReadOnlyList<ForeignSet> Build(DigitsSet test)
    {
        ArgumentNullException.ThrowIfNull(test);
        var random = new DeterministicRandom(NoiseSeed);
        var noise = new float[NoiseRows][];
        for (var r = 0; r < NoiseRows; r++)
        {
            noise[r] = new float[DigitsData.PixelCount];
            for (var p = 0; p < DigitsData.PixelCount; p++)
            {
                noise[r][p] = (float)Math.Floor(random.NextDouble() * (DigitsData.MaxPixel + 1));
            }
        }

        var inverted = test.Rows().Select(row => row.Select(p => DigitsData.MaxPixel - p).ToArray()).ToArray();
        return
        [
            new(Noise, $"{NoiseRows} rows of integer counts uniform in 0..16 (seed {NoiseSeed})", noise),
            new(Blank, "one image of all 0", [new float[DigitsData.PixelCount]]),
            new(Saturated, "one image of all 16", [Enumerable.Repeat((float)DigitsData.MaxPixel, DigitsData.PixelCount).ToArray()]),
            new(Inverted, $"the {test.Count} held-out test digits, each pixel 16 − x", inverted),
            new(BreastCancer, $"the {BreastCancerData.RowCount} UCI breast-cancer rows, 30 features min–max scaled to 0..16, twice, then 4 zeros", BreastCancerData.AsDigitsInput()),
        ];
    }
}
