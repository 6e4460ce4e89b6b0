namespace ServerlessServe.Core.Defenses;

/// <summary>
/// Computes an <see cref="InputProfile"/> from training rows: mean, range, the covariance shrunk toward a scaled
/// identity (so constant features, such as a border pixel that is always 0, still give an invertible matrix), its
/// inverse by Cholesky decomposition, and the threshold at a percentile of the rows' own Mahalanobis distances.
/// Deterministic: the same rows give the same bytes.
/// </summary>
public static class InputProfileBuilder
{
    /// <summary>Default weight of the scaled identity in the shrunk covariance.</summary>
    public const double DefaultShrinkage = 0.1;

    public static InputProfile Build(string input, IReadOnlyList<float[]> rows, double percentile, double shrinkage = DefaultShrinkage)
    {
        ArgumentException.ThrowIfNullOrEmpty(input);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count < 2)
        {
            throw new ArgumentException("at least two training rows are needed", nameof(rows));
        }

        var d = rows[0].Length;
        if (d is < 1 or > InputProfile.MaxFeatures || rows.Any(r => r.Length != d || !r.All(float.IsFinite)))
        {
            throw new ArgumentException($"rows must all have the same 1..{InputProfile.MaxFeatures} finite features", nameof(rows));
        }

        if (!(percentile is > 50 and <= 100) || !(shrinkage is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), "percentile must be in (50, 100] and shrinkage in [0, 1]");
        }

        var n = rows.Count;
        var mean = new double[d];
        var min = Enumerable.Repeat(double.PositiveInfinity, d).ToArray();
        var max = Enumerable.Repeat(double.NegativeInfinity, d).ToArray();
        foreach (var row in rows)
        {
            for (var i = 0; i < d; i++)
            {
                mean[i] += row[i];
                min[i] = Math.Min(min[i], row[i]);
                max[i] = Math.Max(max[i], row[i]);
            }
        }

        for (var i = 0; i < d; i++)
        {
            mean[i] /= n;
        }

        var covariance = new double[d * d];
        var centered = new double[d];
        foreach (var row in rows)
        {
            for (var i = 0; i < d; i++)
            {
                centered[i] = row[i] - mean[i];
            }

            for (var i = 0; i < d; i++)
            {
                for (var j = 0; j <= i; j++)
                {
                    covariance[(i * d) + j] += centered[i] * centered[j];
                }
            }
        }

        var trace = 0.0;
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                covariance[(i * d) + j] /= n - 1;
                covariance[(j * d) + i] = covariance[(i * d) + j];
            }

            trace += covariance[(i * d) + i];
        }

        // Shrink toward (trace/d)·I; a data set whose every feature is constant shrinks toward I.
        var scale = trace > 0 ? trace / d : 1.0;
        var shrunk = new double[d * d];
        for (var i = 0; i < d * d; i++)
        {
            shrunk[i] = (1 - shrinkage) * covariance[i];
        }

        for (var i = 0; i < d; i++)
        {
            shrunk[(i * d) + i] += shrinkage * scale;
        }

        var precision = InvertSymmetricPositiveDefinite(shrunk, d);
        var profile = new InputProfile
        {
            Input = input,
            Rows = n,
            Features = d,
            Mean = mean,
            Min = min,
            Max = max,
            Shrinkage = shrinkage,
            Precision = precision,
            Percentile = percentile,
            Threshold = 0,
        };
        var screen = new MahalanobisScreen(profile);
        var distances = rows.Select(r => screen.Distance(r)).Order().ToArray();
        return profile with { Threshold = Quantile(distances, percentile / 100) };
    }

    /// <summary>The <paramref name="q"/> quantile of sorted values, linear between neighbours (numpy's default).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var position = q * (sorted.Count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }

    // Cholesky A = L·Lᵀ, then A⁻¹ = L⁻ᵀ·L⁻¹.
    private static double[] InvertSymmetricPositiveDefinite(double[] a, int d)
    {
        var l = new double[d * d];
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = a[(i * d) + j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[(i * d) + k] * l[(j * d) + k];
                }

                if (i == j)
                {
                    if (sum <= 0)
                    {
                        throw new ArgumentException("the covariance is not positive definite; use a shrinkage above 0");
                    }

                    l[(i * d) + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[(i * d) + j] = sum / l[(j * d) + j];
                }
            }
        }

        // L⁻¹ by forward substitution, column by column.
        var inverseL = new double[d * d];
        for (var column = 0; column < d; column++)
        {
            for (var i = column; i < d; i++)
            {
                var sum = i == column ? 1.0 : 0.0;
                for (var k = column; k < i; k++)
                {
                    sum -= l[(i * d) + k] * inverseL[(k * d) + column];
                }

                inverseL[(i * d) + column] = sum / l[(i * d) + i];
            }
        }

        var inverse = new double[d * d];
        for (var i = 0; i < d; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = 0.0;
                for (var k = i; k < d; k++)
                {
                    sum += inverseL[(k * d) + i] * inverseL[(k * d) + j];
                }

                inverse[(i * d) + j] = sum;
                inverse[(j * d) + i] = sum;
            }
        }

        return inverse;
    }
}
