namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Orders versions: numerically when both are all digits (so 10 follows 9), otherwise ordinally. Equal numbers with
/// different spellings (01 and 1) fall back to ordinal order, so the order is total.
/// </summary>
public sealed class VersionComparer : IComparer<string>
{
    public static VersionComparer Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        if (IsDigits(x) && IsDigits(y))
        {
            var a = x.AsSpan().TrimStart('0');
            var b = y.AsSpan().TrimStart('0');
            var byValue = a.Length != b.Length ? a.Length.CompareTo(b.Length) : a.SequenceCompareTo(b);
            if (byValue != 0)
            {
                return byValue;
            }
        }

        return string.CompareOrdinal(x, y);
    }

    private static bool IsDigits(string value) => value.Length > 0 && value.All(char.IsAsciiDigit);
}
