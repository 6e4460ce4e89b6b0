namespace ServerlessServe.Local.Samples;

/// <summary>
/// The rows of an embedded data file: exactly <c>rowCount</c> lines of exactly <c>fieldCount</c> comma-separated
/// fields each (empty lines skipped), or an <see cref="InvalidDataException"/> that names the file and the row.
/// </summary>
internal static class EmbeddedCsv
{
    public static IEnumerable<(int Row, string[] Fields)> Rows(TextReader reader, string file, int rowCount, int fieldCount)
    {
        var row = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (row == rowCount)
            {
                throw new InvalidDataException($"{file} has more than {rowCount} rows.");
            }

            var fields = line.Split(',');
            if (fields.Length != fieldCount)
            {
                throw new InvalidDataException($"{file} row {row + 1} has {fields.Length} fields, not {fieldCount}.");
            }

            yield return (row, fields);
            row++;
        }

        if (row != rowCount)
        {
            throw new InvalidDataException($"{file} has {row} rows, not {rowCount}.");
        }
    }
}
