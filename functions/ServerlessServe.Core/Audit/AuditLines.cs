namespace ServerlessServe.Core.Audit;

/// <summary>Splits a segment blob into its lines (records end in <c>\n</c>; a last line without one still counts).</summary>
internal static class AuditLines
{
    public static List<(int Start, int Length)> Split(ReadOnlySpan<byte> content)
    {
        var lines = new List<(int Start, int Length)>();
        var start = 0;
        while (start < content.Length)
        {
            var end = content[start..].IndexOf((byte)'\n');
            var length = end < 0 ? content.Length - start : end;
            lines.Add((start, length));
            start += length + 1;
        }

        return lines;
    }
}
