namespace ServerlessServe.Core.Redaction;

/// <summary>
/// The part of Unicode NFKC that turns a character into ASCII: full-width forms (<c>４</c>, <c>＠</c>, <c>．</c>), small
/// forms (<c>﹫</c>, <c>﹣</c>), mathematical letters and digits (<c>𝟒</c>), super- and subscripts, circled and
/// parenthesised numbers, spaces of every width, ligatures and letter-like symbols.
/// </summary>
/// <remarks>
/// .NET normalises through ICU, which every project here turns off (<c>InvariantGlobalization</c>): there
/// <see cref="string.Normalize(System.Text.NormalizationForm)"/> returns non-ASCII text unchanged. The detectors only
/// read ASCII letters, digits of any script and separators, so this subset is all of NFKC that can change what they find;
/// the data is generated from Python's <c>unicodedata</c> (<c>generate_ascii_compatibility.py</c>).
/// </remarks>
internal static partial class AsciiCompatibility
{
    /// <summary>
    /// The ASCII NFKC form of <paramref name="codePoint"/> written to <paramref name="destination"/> (at least 4
    /// characters: the longest form, e.g. <c>(10)</c>); returns the number of characters written, or 0 when the code point has no such form.
    /// </summary>
    public static int Fold(int codePoint, Span<char> destination)
    {
        if (codePoint < 0x80)
        {
            return 0;
        }

        var run = RunStarts.BinarySearch(codePoint);
        if (run < 0)
        {
            run = ~run - 1;
        }

        if (run >= 0 && codePoint - RunStarts[run] < RunLengths[run])
        {
            destination[0] = (char)(RunTargets[run] + (codePoint - RunStarts[run]));
            return 1;
        }

        var multi = MultiCodePoints.BinarySearch(codePoint);
        if (multi < 0)
        {
            return 0;
        }

        var form = MultiForms[multi];
        form.CopyTo(destination);
        return form.Length;
    }
}
