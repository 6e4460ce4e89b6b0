using System.Globalization;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Defenses;

/// <summary>A set of squeezers evaluated together (one is a single squeezer; more are joint, as in Xu et al.).</summary>
public sealed record SqueezeConfiguration
{
    /// <summary>Height and width of a digits image (8×8 = 64 pixels).</summary>
    public const int ImageSide = 8;

    /// <param name="squeezers">1..4 squeezers, in the order the policy lists them.</param>
    public SqueezeConfiguration(IReadOnlyList<Squeezer> squeezers)
    {
        ArgumentNullException.ThrowIfNull(squeezers);
        if (squeezers.Count is < 1 or > 4)
        {
            throw new ArgumentException("A policy takes 1..4 squeezers.", nameof(squeezers));
        }

        Squeezers = squeezers.ToArray();
        Name = string.Join(" + ", Squeezers.Select(Describe));
    }

    /// <summary>For example <c>bit depth 1 + median 2×2</c>.</summary>
    public string Name { get; }

    /// <summary>The squeezers, as a policy's <c>squeezers</c> list.</summary>
    public IReadOnlyList<Squeezer> Squeezers { get; }

    /// <summary>More than one squeezer: the row's score is the largest distance over them.</summary>
    public bool Joint => Squeezers.Count > 1;

    /// <summary>
    /// What the evaluation compares, Xu et al.'s squeezers for MNIST and their neighbours on the 0..16 scale: bit depth
    /// 1–4 (2, 4, 8 and 16 levels), median 2×2 and 3×3, joint sets of a bit depth with median smoothing (Xu et al.'s
    /// joint detector), and joint sets of bit depths only.
    /// </summary>
    public static IReadOnlyList<SqueezeConfiguration> Defaults { get; } =
    [
        new([BitDepth(1)]),
        new([BitDepth(2)]),
        new([BitDepth(3)]),
        new([BitDepth(4)]),
        new([Median(2)]),
        new([Median(3)]),
        new([BitDepth(1), Median(2)]),
        new([BitDepth(2), Median(2)]),
        new([BitDepth(3), Median(2)]),
        new([BitDepth(1), Median(2), Median(3)]),
        new([BitDepth(2), Median(2), Median(3)]),
        new([BitDepth(3), Median(2), Median(3)]),
        new([BitDepth(1), BitDepth(3)]),
        new([BitDepth(2), BitDepth(3)]),
        new([BitDepth(3), BitDepth(4)]),
        new([BitDepth(1), BitDepth(2), BitDepth(3), BitDepth(4)]),
    ];

    /// <summary>Bit-depth reduction to <paramref name="bits"/> bits (2^bits levels over 0..16).</summary>
    public static Squeezer BitDepth(int bits) => new() { Kind = SqueezerKind.BitDepth, Bits = bits };

    /// <summary>A <paramref name="size"/>×<paramref name="size"/> median filter over the 8×8 image.</summary>
    public static Squeezer Median(int size) => new() { Kind = SqueezerKind.Median, Size = size };

    /// <summary>The digits model's squeeze policy with these squeezers (pixels 0..16 as an 8×8 image, probabilities compared).</summary>
    public SqueezePolicy ToPolicy(double threshold, DefenseMode mode = DefenseMode.Shadow) => new()
    {
        Mode = mode,
        Input = DigitsSample.InputName,
        Output = DigitsSample.OutputName,
        InputMax = DigitsData.MaxPixel,
        Image = [ImageSide, ImageSide],
        Squeezers = Squeezers,
        Threshold = threshold,
    };

    /// <summary>True when <paramref name="squeezers"/> are these, in this order.</summary>
    public bool Matches(IReadOnlyList<Squeezer> squeezers) => squeezers is not null && squeezers.SequenceEqual(Squeezers);

    /// <summary>Equal when the squeezers are equal, in order (the list compared by its elements, not by reference).</summary>
    public bool Equals(SqueezeConfiguration? other) => other is not null && Matches(other.Squeezers);

    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);

    private static string Describe(Squeezer squeezer) => squeezer.Kind == SqueezerKind.BitDepth
        ? string.Create(CultureInfo.InvariantCulture, $"bit depth {squeezer.Bits}")
        : string.Create(CultureInfo.InvariantCulture, $"median {squeezer.Size}×{squeezer.Size}");
}
