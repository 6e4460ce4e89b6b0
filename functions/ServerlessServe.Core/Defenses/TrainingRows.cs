using System.Globalization;

namespace ServerlessServe.Core.Defenses;

/// <summary>
/// Reads training rows for an <see cref="InputProfile"/> from CSV text: one row per line, comma-separated numbers,
/// either exactly the input's feature count or one more (a trailing label, ignored). A first line that is not such a
/// row is taken as a header and skipped; empty lines and lines starting with <c>#</c> are skipped; any other line that
/// is not a row is an error naming its line number.
/// </summary>
public static class TrainingRows
{
    /// <summary>Most rows read (a profile needs far fewer; more only costs time).</summary>
    public const int MaxRows = 1_000_000;

    public static IReadOnlyList<float[]> ReadCsv(TextReader reader, int features)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        var rows = new List<float[]>();
        var number = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split(',');
            var row = fields.Length == features || fields.Length == features + 1 ? Parse(fields, features) : null;
            if (row is null)
            {
                if (number == 1)
                {
                    continue;
                }

                throw new FormatException($"line {number} is not a row of {features} numbers (and an optional label)");
            }

            if (rows.Count == MaxRows)
            {
                throw new FormatException($"more than {MaxRows} rows");
            }

            rows.Add(row);
        }

        return rows.Count >= 2 ? rows : throw new FormatException("fewer than two training rows");
    }

    private static float[]? Parse(string[] fields, int features)
    {
        var row = new float[features];
        for (var i = 0; i < features; i++)
        {
            if (!float.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out row[i]) || !float.IsFinite(row[i]))
            {
                return null;
            }
        }

        return row;
    }
}
