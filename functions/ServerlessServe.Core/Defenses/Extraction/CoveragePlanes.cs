namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The hyperplanes of the coverage signal for one input dimension: <see cref="Bits"/> orthonormal directions drawn at
/// random (Gaussian components from a fixed seed, then Gram–Schmidt), so every instance draws the same ones. A query's
/// cell is the pattern of signs of its projections, after centring, on these directions (Charikar's random-hyperplane
/// hashing, 2002). Orthogonality makes the sign bits of isotropic data independent, so uniformly scattered queries
/// spread evenly over all 2^bits cells.
/// </summary>
internal sealed class CoveragePlanes
{
    private const ulong Seed = 0x434F564552414745UL;

    private readonly float[] _directions;

    /// <summary>Draws min(<paramref name="bits"/>, <paramref name="dimension"/>) orthonormal directions in <paramref name="dimension"/> dimensions.</summary>
    public CoveragePlanes(int dimension, int bits)
    {
        Dimension = dimension;
        Bits = Math.Min(bits, dimension);
        var random = new SplitMix64(Seed);
        var rows = new double[Bits][];
        for (var j = 0; j < Bits; j++)
        {
            var row = new double[dimension];
            for (var i = 0; i < dimension; i++)
            {
                row[i] = random.NextGaussian();
            }

            // Modified Gram–Schmidt against the rows already accepted; Gaussian rows are independent almost surely, so
            // the remainder is never zero in practice (it is redrawn if it is tiny).
            for (var k = 0; k < j; k++)
            {
                var dot = 0.0;
                for (var i = 0; i < dimension; i++)
                {
                    dot += row[i] * rows[k][i];
                }

                for (var i = 0; i < dimension; i++)
                {
                    row[i] -= dot * rows[k][i];
                }
            }

            var norm = Math.Sqrt(row.Sum(static v => v * v));
            if (norm < 1e-6)
            {
                j--;
                continue;
            }

            for (var i = 0; i < dimension; i++)
            {
                row[i] /= norm;
            }

            rows[j] = row;
        }

        _directions = new float[Bits * dimension];
        for (var j = 0; j < Bits; j++)
        {
            for (var i = 0; i < dimension; i++)
            {
                _directions[(j * dimension) + i] = (float)rows[j][i];
            }
        }
    }

    /// <summary>Values per input.</summary>
    public int Dimension { get; }

    /// <summary>Directions, hence bits per cell.</summary>
    public int Bits { get; }

    /// <summary>Direction <paramref name="index"/> (unit length, orthogonal to the others).</summary>
    public ReadOnlySpan<float> Direction(int index) => _directions.AsSpan(index * Dimension, Dimension);

    /// <summary>The cell of <paramref name="query"/> relative to <paramref name="centre"/>: bit j set when the projection on direction j is positive.</summary>
    public int Cell(ReadOnlySpan<float> query, ReadOnlySpan<float> centre)
    {
        var cell = 0;
        for (var j = 0; j < Bits; j++)
        {
            var direction = _directions.AsSpan(j * Dimension, Dimension);
            var projection = 0f;
            for (var i = 0; i < Dimension; i++)
            {
                projection += direction[i] * (query[i] - centre[i]);
            }

            if (projection > 0f)
            {
                cell |= 1 << j;
            }
        }

        return cell;
    }
}
