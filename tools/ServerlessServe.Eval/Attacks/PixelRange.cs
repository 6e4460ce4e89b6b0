using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Attacks;

/// <summary>
/// The valid values of every input element (inclusive). Attacks take their budget ε on the normalised [0, 1] scale, as
/// the MNIST literature does, and work in input units: ε·(<see cref="Max"/> − <see cref="Min"/>).
/// </summary>
public readonly record struct PixelRange
{
    public PixelRange(float min, float max)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max) || min >= max)
        {
            throw new ArgumentException("The range needs finite bounds with min below max.", nameof(min));
        }

        Min = min;
        Max = max;
    }

    /// <summary>The digits sample's pixel counts: 0..16.</summary>
    public static PixelRange Digits { get; } = new(0, DigitsData.MaxPixel);

    public float Min { get; }

    public float Max { get; }

    /// <summary>A budget on the normalised scale in input units.</summary>
    public float ToUnits(double normalised) => (float)(normalised * (Max - Min));

    /// <summary><paramref name="value"/> clipped into the range.</summary>
    public float Clip(float value) => Math.Clamp(value, Min, Max);
}
