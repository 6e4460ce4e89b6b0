namespace ServerlessServe.Core.Tests.Defenses.Extraction;

/// <summary>
/// A synthetic model and its callers for the detector tests: ten class centres drawn from N(0, I) in 64 dimensions, the
/// "model" predicting the nearest centre. Benign callers draw queries independently from the mixture (a centre chosen
/// uniformly, plus N(0, 0.5²I) noise); the attackers are a Jacobian-style augmenter (Papernot et al. 2017, as evaluated
/// by PRADA: a few natural seeds, then rounds in which every query so far is stepped by λ along the sign of a direction
/// that moves it toward another class) and a uniform random sampler. Everything comes from a seeded System.Random.
/// </summary>
internal sealed class SyntheticCallers
{
    public const int Dimension = 64;
    public const int Classes = 10;
    public const double Noise = 0.5;

    private readonly float[][] _centres;
    private readonly Random _random;

    public SyntheticCallers(int seed)
    {
        _random = new Random(seed);
        _centres = new float[Classes][];
        for (var k = 0; k < Classes; k++)
        {
            _centres[k] = new float[Dimension];
            for (var i = 0; i < Dimension; i++)
            {
                _centres[k][i] = (float)Gaussian();
            }
        }
    }

    /// <summary>The class of the nearest centre.</summary>
    public int Predict(ReadOnlySpan<float> x)
    {
        var best = 0;
        var bestDistance = double.MaxValue;
        for (var k = 0; k < Classes; k++)
        {
            var distance = 0.0;
            for (var i = 0; i < Dimension; i++)
            {
                var d = x[i] - _centres[k][i];
                distance += d * d;
            }

            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = k;
            }
        }

        return best;
    }

    /// <summary>Independent draws from the mixture.</summary>
    public IEnumerable<float[]> Benign()
    {
        while (true)
        {
            var centre = _centres[_random.Next(Classes)];
            var x = new float[Dimension];
            for (var i = 0; i < Dimension; i++)
            {
                x[i] = centre[i] + (float)(Noise * Gaussian());
            }

            yield return x;
        }
    }

    /// <summary>Ten natural seeds, then Jacobian-style augmentation rounds with step <paramref name="lambda"/>.</summary>
    public IEnumerable<float[]> JacobianStyle(float lambda = 0.1f)
    {
        var pool = Benign().Take(10).ToList();
        foreach (var seed in pool)
        {
            yield return seed;
        }

        while (true)
        {
            var round = new List<float[]>(pool.Count);
            foreach (var x in pool)
            {
                var target = _centres[(Predict(x) + 1 + _random.Next(Classes - 1)) % Classes];
                var step = new float[Dimension];
                for (var i = 0; i < Dimension; i++)
                {
                    step[i] = x[i] + (lambda * MathF.Sign(target[i] - x[i]));
                }

                round.Add(step);
                yield return step;
            }

            pool.AddRange(round);
        }
    }

    /// <summary>Queries uniform on [-3, 3]^64.</summary>
    public IEnumerable<float[]> UniformRandom()
    {
        while (true)
        {
            var x = new float[Dimension];
            for (var i = 0; i < Dimension; i++)
            {
                x[i] = (float)((_random.NextDouble() * 6.0) - 3.0);
            }

            yield return x;
        }
    }

    private double Gaussian() =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - _random.NextDouble())) * Math.Cos(2.0 * Math.PI * _random.NextDouble());
}
