namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Steele, Lea and Flood's SplitMix64 generator (2014): a 64-bit counter stepped by the golden-ratio odd constant and
/// mixed by a fixed bijection. Used where the detector needs pseudo-random values that every instance derives alike from
/// a fixed seed (the coverage hyperplanes, the feature-hashing buckets); never for anything secret.
/// </summary>
internal struct SplitMix64(ulong seed)
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;

    private ulong _state = seed;

    /// <summary>The mixing bijection alone: a well-spread 64-bit hash of <paramref name="value"/>.</summary>
    public static ulong Mix(ulong value)
    {
        var z = value;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 pseudo-random bits.</summary>
    public ulong NextUInt64()
    {
        _state += Gamma;
        return Mix(_state);
    }

    /// <summary>A uniform double in (0, 1): 53 random bits, offset by half a step so it is never 0.</summary>
    public double NextOpenUnit() => ((NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));

    /// <summary>A standard normal value (Box–Muller, cosine branch).</summary>
    public double NextGaussian() => Math.Sqrt(-2.0 * Math.Log(NextOpenUnit())) * Math.Cos(2.0 * Math.PI * NextOpenUnit());
}
