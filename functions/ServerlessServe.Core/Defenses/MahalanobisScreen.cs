using System.Numerics;

namespace ServerlessServe.Core.Defenses;

/// <summary>
/// Scores rows against an <see cref="InputProfile"/>: the Mahalanobis distance √((x−μ)ᵀ·P·(x−μ)), in single
/// precision over a copy of the precision matrix (a 64-feature row is 4,096 multiply-adds, about a microsecond).
/// Thread-safe; build one per model version.
/// </summary>
public sealed class MahalanobisScreen
{
    private readonly float[] _mean;
    private readonly float[] _precision;
    private readonly int _features;

    public MahalanobisScreen(InputProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        Profile = profile;
        _features = profile.Features;
        _mean = profile.Mean.Select(v => (float)v).ToArray();
        _precision = profile.Precision.Select(v => (float)v).ToArray();
    }

    public InputProfile Profile { get; }

    /// <summary>The distance of one row (its length must be the profile's feature count).</summary>
    public double Distance(ReadOnlySpan<float> row)
    {
        if (row.Length != _features)
        {
            throw new ArgumentException($"a row has {_features} features", nameof(row));
        }

        Span<float> centered = _features <= 1024 ? stackalloc float[_features] : new float[_features];
        for (var i = 0; i < _features; i++)
        {
            centered[i] = row[i] - _mean[i];
        }

        var sum = 0.0;
        for (var i = 0; i < _features; i++)
        {
            var weighted = Dot(_precision.AsSpan(i * _features, _features), centered);
            sum += weighted * centered[i];
        }

        // Single precision overflows on finite values near float.MaxValue, and a partial sum gone to -∞ would read as
        // distance 0, a row far outside the profile passed as typical. Any overflow leaves the sum non-finite: such a
        // row is scored again in double precision, where float inputs cannot overflow; a NaN input stays NaN.
        return double.IsFinite(sum) ? Math.Sqrt(Math.Max(0, sum)) : DistanceInDouble(row);
    }

    private double DistanceInDouble(ReadOnlySpan<float> row)
    {
        var mean = Profile.Mean;
        var precision = Profile.Precision;
        var sum = 0.0;
        for (var i = 0; i < _features; i++)
        {
            var weighted = 0.0;
            for (var j = 0; j < _features; j++)
            {
                weighted += precision[(i * _features) + j] * ((double)row[j] - mean[j]);
            }

            sum += weighted * ((double)row[i] - mean[i]);
        }

        for (var i = 0; i < row.Length; i++)
        {
            if (float.IsNaN(row[i]))
            {
                return double.NaN;
            }
        }

        // An infinite input, or a profile so extreme that even double overflows: as far out as a row can be.
        return double.IsFinite(sum) ? Math.Sqrt(Math.Max(0, sum)) : double.PositiveInfinity;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var width = Vector<float>.Count;
        var sums = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - width; i += width)
        {
            sums += new Vector<float>(a.Slice(i, width)) * new Vector<float>(b.Slice(i, width));
        }

        var sum = Vector.Sum(sums);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    /// <summary>The largest distance over the rows of a [rows, features] tensor's data.</summary>
    public double MaxDistance(ReadOnlySpan<float> data) => Screen(data, double.PositiveInfinity).MaxDistance;

    /// <summary>
    /// The rows of a [rows, features] tensor's data held to <paramref name="threshold"/>: the largest distance (NaN once
    /// a row's is NaN), the rows, and how many are flagged — above the threshold or NaN, as
    /// <see cref="DefenseFinding.Flagged"/> holds a score.
    /// </summary>
    public RowScreening Screen(ReadOnlySpan<float> data, double threshold)
    {
        var max = 0.0;
        var rows = 0;
        var flagged = 0;
        for (var offset = 0; offset + _features <= data.Length; offset += _features)
        {
            var distance = Distance(data.Slice(offset, _features));
            max = double.IsNaN(distance) ? double.NaN : Math.Max(max, distance);
            rows++;
            if (!(distance <= threshold))
            {
                flagged++;
            }
        }

        return new RowScreening(max, rows, flagged);
    }
}
