using System.Globalization;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// Rewrites text into the form the PII detectors read, keeping for every character the range of the original it came
/// from, so that a match in the normalised text replaces exactly the right span of the original:
/// <list type="number">
/// <item>NFKC's ASCII forms (<see cref="AsciiCompatibility"/>): full-width and mathematical digits and letters, <c>＠</c>
/// and <c>﹫</c>, <c>．</c>, every space width.</item>
/// <item>Separator classes to one character each: any space, tab or line break to <c>' '</c>; every dash (Unicode
/// <c>Pd</c>, U+2212 minus and its look-alikes) to <c>'-'</c>; dot look-alikes (U+00B7, U+2027, U+2219, U+22C5,
/// U+30FB, U+3002) to <c>'.'</c>; slash look-alikes (U+2044, U+2215, U+29F8) to <c>'/'</c>.</item>
/// <item>Invisible characters removed: format characters (<c>Cf</c>: soft hyphen, zero-width space and joiners, word
/// joiner, byte-order mark, bidirectional controls, tags), controls (<c>Cc</c> other than whitespace), combining marks
/// (<c>Mn</c>, <c>Mc</c>, <c>Me</c>: strike-through, keycaps), and the other default-ignorables (U+034F, variation
/// selectors, Hangul fillers, U+17B4/5, Mongolian selectors, unassigned ignorables, the braille blank U+2800);
/// digits outside the first plane and dingbat circled digits read as ASCII digits.</item>
/// <item>A run of spaces to one space; spaces around a single dash, dot or slash between two digits removed
/// (<c>4111 - 1111</c> reads <c>4111-1111</c>).</item>
/// </list>
/// </summary>
internal static class TextNormalizer
{
    private enum CharClass
    {
        Other,
        Space,
        Dash,
        Dot,
        Slash,
        Invisible,
    }

    /// <summary>Normalises <paramref name="text"/>; without maps when nothing changed.</summary>
    public static NormalizedText Normalize(string text)
    {
        var output = new Output(text.Length);
        Span<char> fold = stackalloc char[8];
        var i = 0;
        while (i < text.Length)
        {
            var kind = Classify(text, i, fold, out var width, out var folded);
            if (kind == CharClass.Other)
            {
                if (folded > 0)
                {
                    output.Append(fold[..folded], i, i + width);
                }
                else
                {
                    output.Append(text.AsSpan(i, width), i, i + width);
                }

                i += width;
                continue;
            }

            i = AppendSeparatorRun(text, i, output, fold);
        }

        return output.Matches(text) ? new NormalizedText(text, null, null) : output.ToNormalizedText();
    }

    /// <summary>Appends the run of separators and invisible characters that starts at <paramref name="start"/>; returns its end.</summary>
    private static int AppendSeparatorRun(string text, int start, Output output, Span<char> fold)
    {
        var end = start;
        var spaces = 0;
        var punctuation = 0;
        var punctuationChar = '\0';
        while (end < text.Length)
        {
            var kind = Classify(text, end, fold, out var width, out _);
            if (kind == CharClass.Other)
            {
                break;
            }

            if (kind == CharClass.Space)
            {
                spaces++;
            }
            else if (kind != CharClass.Invisible)
            {
                punctuation++;
                punctuationChar = Canonical(kind);
            }

            end += width;
        }

        if (punctuation == 0)
        {
            if (spaces > 0)
            {
                output.Append(" ", start, end);
            }

            return end;
        }

        if (punctuation == 1 && (spaces == 0 || (output.EndsWithDigit() && StartsWithDigit(text, end, fold))))
        {
            output.Append([punctuationChar], start, end);
            return end;
        }

        // Anything else keeps its shape: each stretch of spaces becomes one space, each dash, dot or slash its own.
        var stretch = -1;
        for (var i = start; i < end;)
        {
            var kind = Classify(text, i, fold, out var width, out _);
            if (kind == CharClass.Space)
            {
                stretch = stretch < 0 ? i : stretch;
            }
            else if (kind != CharClass.Invisible)
            {
                if (stretch >= 0)
                {
                    output.Append(" ", stretch, i);
                    stretch = -1;
                }

                output.Append([Canonical(kind)], i, i + width);
            }

            i += width;
        }

        if (stretch >= 0)
        {
            output.Append(" ", stretch, end);
        }

        return end;
    }

    private static bool StartsWithDigit(string text, int index, Span<char> fold)
    {
        if (index >= text.Length)
        {
            return false;
        }

        _ = Classify(text, index, fold, out _, out var folded);
        return PiiValidators.IsDigit(folded > 0 ? fold[0] : text[index]);
    }

    private static char Canonical(CharClass kind) => kind switch
    {
        CharClass.Dash => '-',
        CharClass.Dot => '.',
        CharClass.Slash => '/',
        _ => ' ',
    };

    /// <summary>The class of the code point at <paramref name="index"/>, its width in UTF-16 units and its ASCII fold.</summary>
    private static CharClass Classify(string text, int index, Span<char> fold, out int width, out int folded)
    {
        var c = text[index];
        width = 1;
        folded = 0;
        if (c < 0x80)
        {
            return c switch
            {
                ' ' or '\t' or '\n' or '\v' or '\f' or '\r' => CharClass.Space,
                '-' => CharClass.Dash,
                '.' => CharClass.Dot,
                '/' => CharClass.Slash,
                < ' ' or '\x7F' => CharClass.Invisible,
                _ => CharClass.Other,
            };
        }

        int codePoint = c;
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            codePoint = char.ConvertToUtf32(c, text[index + 1]);
            width = 2;
        }

        // Every code point Unicode gives a digit value is read as the ASCII digit it stands for: decimal digits beyond
        // the first plane (Adlam, Osmanya, Brahmi, …; the detectors' \d reads UTF-16 units), and digits with no
        // compatibility decomposition, which NFKC leaves as they are: the dingbat circled digits, the double-circled
        // ⓵-⓽ and ⓿, Ethiopic and Kharoshthi digits (the last ones found in review 2026-12-07: a card written in
        // double-circled digits passed every detector). Before, only the first two kinds were listed.
        if (CharUnicodeInfo.GetDigitValue(text, index) is >= 0 and <= 9 and var digit)
        {
            fold[0] = (char)('0' + digit);
            folded = 1;
            return CharClass.Other;
        }

        folded = AsciiCompatibility.Fold(codePoint, fold);
        if (folded == 1 && fold[0] is ' ' or '-' or '.' or '/')
        {
            var kind = fold[0] switch
            {
                ' ' => CharClass.Space,
                '-' => CharClass.Dash,
                '.' => CharClass.Dot,
                _ => CharClass.Slash,
            };
            folded = 0;
            return kind;
        }

        if (folded > 0)
        {
            return CharClass.Other;
        }

        switch (codePoint)
        {
            case 0x85 or 0x2028 or 0x2029:
                return CharClass.Space;
            case 0x2D7 or 0x2043 or 0x2212 or 0x2796 or 0x23AF or 0x2500 or 0x2501 or 0x2CBA:
                return CharClass.Dash;
            case 0xB7 or 0x387 or 0x2027 or 0x2219 or 0x22C5 or 0x2E31 or 0x30FB or 0x3002 or 0xFF61 or 0xFF65:
                return CharClass.Dot;
            case 0x2044 or 0x2215 or 0x29F8:
                return CharClass.Slash;

            // Default-ignorable code points that are not Cf: variation selectors, the combining grapheme joiner, the
            // Hangul fillers, invisible Khmer vowels and Mongolian selectors, and the unassigned ignorables (U+2065,
            // U+FFF0-U+FFF8, the rest of the tag block); and the blank braille pattern: a renderer shows none of them.
            case 0x34F or 0x115F or 0x1160 or 0x17B4 or 0x17B5 or (>= 0x180B and <= 0x180F) or 0x2065 or 0x2800 or 0x3164 or 0xFFA0
                or (>= 0xFE00 and <= 0xFE0F) or (>= 0xFFF0 and <= 0xFFF8) or (>= 0xE0000 and <= 0xE0FFF):
                return CharClass.Invisible;
        }

        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => CharClass.Space,
            UnicodeCategory.DashPunctuation => CharClass.Dash,

            // Controls (C0 and C1) and format characters draw nothing; combining marks sit on the character before
            // them (strike-through digits, keycaps, accents written apart, Indic vowel signs). The detectors read the
            // text without them; what they find is mapped back onto the original, marks included.
            UnicodeCategory.Format or UnicodeCategory.Control
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.SpacingCombiningMark => CharClass.Invisible,
            _ => CharClass.Other,
        };
    }

    /// <summary>The normalised characters and, for each, the original range it came from.</summary>
    private sealed class Output(int capacity)
    {
        private char[] _chars = new char[Math.Max(capacity, 4)];
        private int[] _starts = new int[Math.Max(capacity, 4)];
        private int[] _ends = new int[Math.Max(capacity, 4)];
        private int _length;

        public void Append(ReadOnlySpan<char> chars, int start, int end)
        {
            if (_length + chars.Length > _chars.Length)
            {
                var size = Math.Max(_chars.Length * 2, _length + chars.Length);
                Array.Resize(ref _chars, size);
                Array.Resize(ref _starts, size);
                Array.Resize(ref _ends, size);
            }

            chars.CopyTo(_chars.AsSpan(_length));
            _starts.AsSpan(_length, chars.Length).Fill(start);
            _ends.AsSpan(_length, chars.Length).Fill(end);
            _length += chars.Length;
        }

        public bool EndsWithDigit() => _length > 0 && PiiValidators.IsDigit(_chars[_length - 1]);

        public bool Matches(string text) => text.AsSpan().SequenceEqual(_chars.AsSpan(0, _length));

        public NormalizedText ToNormalizedText() => new(new string(_chars, 0, _length), _starts, _ends);
    }
}
