namespace ServerlessServe.Local.Samples;

/// <summary>
/// SplitMix64: a tiny generator whose sequence is fixed by its seed on every runtime and platform (unlike
/// <see cref="Random"/>, whose algorithm is an implementation detail). Normal draws use the Irwin–Hall sum of twelve
/// uniforms, which needs no transcendental functions and so is bit-identical everywhere.
/// </summary>
public sealed class DeterministicRandom(ulong seed)
{
    private ulong _state = seed;

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Approximately normal with the given mean and standard deviation (bounded to ±6σ).</summary>
    public double NextNormal(double mean, double stdDev)
    {
        var sum = 0.0;
        for (var i = 0; i < 12; i++)
        {
            sum += NextDouble();
        }

        return mean + (stdDev * (sum - 6.0));
    }
}
