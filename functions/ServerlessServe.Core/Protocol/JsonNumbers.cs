using System.Buffers.Binary;
using System.Numerics;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Exact conversion of a JSON number token to the nearest <see cref="double"/> or <see cref="float"/>, for the numbers
/// tensors carry: at most 19 significant digits, in the normal range. It answers only when it can prove the answer is
/// the correctly rounded one, the same .NET's parser gives; otherwise it declines (returns <c>false</c>) and the caller
/// uses .NET's parser. It is about three times faster than .NET's on a JSON image's numbers (docs/performance.md).
/// </summary>
/// <remarks>
/// <para>Three methods, tried in turn on <c>w × 10^q</c> (w the digits as an integer, q the decimal exponent):</para>
/// <para>1. When w ≤ 2^53 and |q| ≤ 22, w and 10^|q| are exact doubles, and one IEEE multiplication or division
/// rounds the exact product or quotient once, correctly (Clinger's fast path).</para>
/// <para>2. Otherwise w, shifted to 64 significant bits, is multiplied by the 128 most significant bits of 5^q (Eisel
/// and Lemire, "Number Parsing at a Gigabyte per Second", 2021). The table's values are truncated, so the product is
/// never above the true one and falls short by less than w units of its low 128 bits. The top 64 bits of the product
/// decide the double's 53 bits and the rounding bit unless a carry from below could still reach them, or the bits
/// below the rounding bit could be an exact tie; both are detected and declined. Results outside the normal double
/// range (subnormal or overflowing) are declined too.</para>
/// <para>3. What method 2 leaves undecided for exponents from -22 to 19, chiefly numbers that are exactly a double
/// (as Python writes a float32's value) and exact ties, is decided in exact 128-bit integer arithmetic.</para>
/// <para>A float is the double rounded again to 24 bits. Rounding twice gives the same float as rounding once unless the
/// double lies exactly halfway between two floats (the halfway points are themselves doubles, and rounding is
/// monotonic), so that one case is declined, unless the token is an integer the double holds exactly.</para>
/// </remarks>
internal static class JsonNumbers
{
    /// <summary>The most significant digits a token may have (every 19-digit integer fits in 64 bits).</summary>
    private const int MaxDigits = 19;

    private const int MinExponent = -342;
    private const int MaxExponent = 308;

    private static readonly double[] ExactPowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];

    /// <summary>The token's value as the nearest double, when this parser can decide it.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> token, out double value) =>
        TryParseDouble(token, out value, out var length) && length == token.Length;

    /// <summary>The token's value as the nearest float, when this parser can decide it (never infinity).</summary>
    public static bool TryParseSingle(ReadOnlySpan<byte> token, out float value) =>
        TryParseSingle(token, out value, out var length) && length == token.Length;

    /// <summary>
    /// The number at the start of <paramref name="text"/> as the nearest double, when this parser can decide it;
    /// <paramref name="length"/> is where the number ends (the caller checks what follows it).
    /// </summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value, out int length)
    {
        value = 0;
        if (!TryDecompose(text, out var negative, out var digits, out var exponent, out length)
            || !TryCompose(digits, exponent, out var magnitude))
        {
            return false;
        }

        value = negative ? -magnitude : magnitude;
        return true;
    }

    /// <summary>As <see cref="TryParseDouble(ReadOnlySpan{byte}, out double, out int)"/>, to the nearest float (never infinity).</summary>
    public static bool TryParseSingle(ReadOnlySpan<byte> text, out float value, out int length)
    {
        value = 0;
        if (!TryDecompose(text, out var negative, out var digits, out var exponent, out length)
            || !TryCompose(digits, exponent, out var magnitude))
        {
            return false;
        }

        var exact = negative ? -magnitude : magnitude;
        var rounded = (float)exact;
        if (!float.IsFinite(rounded))
        {
            return false;
        }

        // Halfway between two normal floats, a double's 29 bits below the float's 23 are exactly 1 followed by zeros;
        // below the normal floats (2^-126) the float has fewer bits, so look closer there.
        if (((BitConverter.DoubleToUInt64Bits(magnitude) & 0x1FFFFFFF) == 0x10000000 || magnitude < 1.1754943508222875e-38)
            && (double)rounded != exact)
        {
            // The float on the other side of the double: if the double is exactly halfway between the two, the token
            // may have been just below or just above it, which only the exact parser can tell, unless the double is
            // the token's value itself (a shortest-form writer gives 49686230 for the float 49686232: a tie, to even).
            var other = exact > rounded ? MathF.BitIncrement(rounded) : MathF.BitDecrement(rounded);
            if (((double)rounded + other) * 0.5 == exact && !IsInteger(digits, exponent, magnitude))
            {
                return false;
            }
        }

        value = rounded;
        return true;
    }

    /// <summary>
    /// The JSON integer (<c>-?(0|[1-9][0-9]*)</c>, at most 19 digits) at the start of <paramref name="text"/>, as sign
    /// and magnitude, and where it ends. Declines a number with a fraction or an exponent (<c>1.0</c>, <c>1e2</c>), which
    /// is the reader's to judge for an integer datatype.
    /// </summary>
    public static bool TryParseInteger(ReadOnlySpan<byte> text, out bool negative, out ulong magnitude, out int length)
    {
        magnitude = 0;
        length = 0;
        var i = 0;
        negative = text.Length > 0 && text[0] == (byte)'-';
        if (negative)
        {
            i++;
        }

        var start = i;
        uint digit;
        if (i < text.Length && text[i] == (byte)'0')
        {
            i++;
        }
        else
        {
            while (i < text.Length && (digit = (uint)(text[i] - '0')) <= 9)
            {
                if (i - start == MaxDigits)
                {
                    return false;
                }

                magnitude = (magnitude * 10) + digit;
                i++;
            }
        }

        if (i == start || (i < text.Length && (text[i] == (byte)'.' || (text[i] | 0x20) == (byte)'e')))
        {
            return false;
        }

        length = i;
        return true;
    }

    /// <summary>Whether <paramref name="magnitude"/> is exactly the integer <paramref name="digits"/> × 10^<paramref name="exponent"/>.</summary>
    private static bool IsInteger(ulong digits, int exponent, double magnitude) =>
        exponent is >= 0 and <= 19 && magnitude < 18446744073709551616.0 && (UInt128)digits * Pow10(exponent) == (ulong)magnitude;

    private static UInt128 Pow10(int k)
    {
        var power = UInt128.One;
        for (var i = 0; i < k; i++)
        {
            power *= 10;
        }

        return power;
    }

    /// <summary>
    /// Splits the JSON number (<c>-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?</c>) at the start of
    /// <paramref name="token"/> into sign, significant digits and decimal exponent, and says where it ends (the longest
    /// match: what follows is the caller's to check). Declines more than <see cref="MaxDigits"/> significant digits and
    /// text that does not start with that grammar.
    /// A fraction's digits are read eight or four at a time where the token has them (one multiply-add per digit is a
    /// chain the processor cannot overlap, and it was most of the time here).
    /// </summary>
    private static bool TryDecompose(ReadOnlySpan<byte> token, out bool negative, out ulong digits, out int exponent, out int length)
    {
        digits = 0;
        exponent = 0;
        length = 0;
        var i = 0;
        negative = token.Length > 0 && token[0] == (byte)'-';
        if (negative)
        {
            i++;
        }

        var count = 0;
        uint digit;
        if (i < token.Length && token[i] == (byte)'0')
        {
            // A leading zero is the whole integer part.
            i++;
        }
        else
        {
            var start = i;
            if (!TryReadDigits(token, ref i, ref digits, ref count, out var zerosPast) || i == start)
            {
                return false;
            }

            // Zeros past the digits kept multiply by ten each.
            exponent += zerosPast;
        }

        if (i < token.Length && token[i] == (byte)'.')
        {
            i++;
            var start = i;
            if (digits == 0)
            {
                // Zeros before the first significant digit only move the point.
                while (i < token.Length && token[i] == (byte)'0')
                {
                    i++;
                }
            }

            while (token.Length - i >= 8 && count <= MaxDigits - 8 && TryReadEightDigits(token[i..], out var eight))
            {
                digits = (digits * 100_000_000) + eight;
                count += 8;
                i += 8;
            }

            if (token.Length - i >= 4 && count <= MaxDigits - 4 && TryReadFourDigits(token[i..], out var four))
            {
                digits = (digits * 10_000) + four;
                count += 4;
                i += 4;
            }

            if (!TryReadDigits(token, ref i, ref digits, ref count, out var zerosPast) || i == start)
            {
                return false;
            }

            // Each digit after the point divides by ten, except the zeros past the digits kept, which add nothing.
            exponent += start - i + zerosPast;
        }

        if (i < token.Length && (token[i] | 0x20) == (byte)'e')
        {
            i++;
            var negativeExponent = false;
            if (i < token.Length && token[i] is (byte)'+' or (byte)'-')
            {
                negativeExponent = token[i] == (byte)'-';
                i++;
            }

            var start = i;
            var written = 0;
            while (i < token.Length && (digit = (uint)(token[i] - '0')) <= 9)
            {
                // Far beyond any double's range already; the rest cannot bring it back.
                if (written < 100_000)
                {
                    written = (written * 10) + (int)digit;
                }

                i++;
            }

            if (i == start)
            {
                return false;
            }

            exponent += negativeExponent ? -written : written;
        }

        length = i;
        return true;
    }

    /// <summary>
    /// Reads the run of digits at <paramref name="i"/> into <paramref name="digits"/>, at most <see cref="MaxDigits"/>
    /// significant ones in all (<paramref name="count"/>); zeros past them are counted in <paramref name="zerosPast"/>.
    /// False at a nonzero digit past them, which would need more digits than are kept.
    /// </summary>
    private static bool TryReadDigits(ReadOnlySpan<byte> token, ref int i, ref ulong digits, ref int count, out int zerosPast)
    {
        zerosPast = 0;
        uint digit;
        while (i < token.Length && (digit = (uint)(token[i] - '0')) <= 9)
        {
            if (count == MaxDigits)
            {
                if (digit != 0)
                {
                    return false;
                }

                zerosPast++;
            }
            else
            {
                digits = (digits * 10) + digit;
                count++;
            }

            i++;
        }

        return true;
    }

    /// <summary>Eight ASCII digits at the start of <paramref name="text"/> as their value, or false if any byte is not a digit.</summary>
    private static bool TryReadEightDigits(ReadOnlySpan<byte> text, out uint value) =>
        TryReadDigitWord(BinaryPrimitives.ReadUInt64LittleEndian(text), out value);

    /// <summary>Four ASCII digits at the start of <paramref name="text"/> as their value, or false if any byte is not a digit.</summary>
    private static bool TryReadFourDigits(ReadOnlySpan<byte> text, out uint value) =>
        TryReadDigitWord(0x30303030UL | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(text) << 32), out value); // "0000" before them

    /// <summary>The eight ASCII digits of <paramref name="word"/> (little-endian: the first digit in the lowest byte) as their value.</summary>
    private static bool TryReadDigitWord(ulong word, out uint value)
    {
        // A byte is a digit when its high nibble is 3 and adding 6 leaves it below 0x3A's carry into the nibble above.
        if (((word & 0xF0F0F0F0F0F0F0F0UL) | (((word + 0x0606060606060606UL) & 0xF0F0F0F0F0F0F0F0UL) >> 4)) != 0x3333333333333333UL)
        {
            value = 0;
            return false;
        }

        // Pairs: 10 × first + second in every other byte; then pairs of pairs; then the two halves.
        var values = word - 0x3030303030303030UL;
        values = ((values * 10) + (values >> 8)) & 0x00FF00FF00FF00FFUL;
        values = ((values * 100) + (values >> 16)) & 0x0000FFFF0000FFFFUL;
        value = (uint)(((values & 0xFFFF) * 10_000) + (values >> 32));
        return true;
    }

    /// <summary>The nearest double to <paramref name="digits"/> × 10^<paramref name="exponent"/>, when it can be decided.</summary>
    private static bool TryCompose(ulong digits, int exponent, out double value)
    {
        value = 0;
        if (digits == 0)
        {
            return true;
        }

        if (digits <= 1UL << 53 && exponent >= -22 && exponent <= 22)
        {
            value = exponent < 0 ? digits / ExactPowersOfTen[-exponent] : digits * ExactPowersOfTen[exponent];
            return true;
        }

        if (exponent < MinExponent || exponent > MaxExponent)
        {
            return false;
        }

        var shift = BitOperations.LeadingZeroCount(digits);
        var w = digits << shift;
        var index = exponent - MinExponent;
        var powers = PowersOfFive.Table;

        // The top 128 bits of w × 5^q: first against the table's high half alone, which falls short of the full
        // product by less than w in the low word.
        var high = Math.BigMul(w, powers[2 * index], out var low);
        if ((high & 0x1FF) == 0x1FF && low + w < low)
        {
            // A carry from below could still reach the bits kept: add the product with the table's low half.
            var carryHigh = Math.BigMul(w, powers[(2 * index) + 1], out var carryLow);
            var mergedLow = low + carryHigh;
            var mergedHigh = mergedLow < low ? high + 1 : high;
            if ((mergedHigh & 0x1FF) == 0x1FF && mergedLow == ulong.MaxValue && carryLow + w < carryLow)
            {
                return TryComposeExactly(digits, exponent, out value);
            }

            high = mergedHigh;
            low = mergedLow;
        }

        // 54 bits: the double's 53 and the rounding bit.
        var top = (int)(high >> 63);
        var mantissa = high >> (top + 9);

        // All zeros below the rounding bit may be an exact tie or a value just above it: only the exact parser knows.
        if (low == 0 && (high & 0x1FF) == 0 && (mantissa & 3) == 1)
        {
            return TryComposeExactly(digits, exponent, out value);
        }

        var binaryExponent = 190 + top + PowersOfFive.Exponents[index] + exponent - shift;
        return TryAssemble((mantissa + (mantissa & 1)) >> 1, binaryExponent, out value);
    }

    /// <summary>
    /// The nearest double to <paramref name="digits"/> × 10^<paramref name="exponent"/> in exact 128-bit integer
    /// arithmetic, for exponents from -22 to 19: what the table's truncation cannot decide there, chiefly numbers that
    /// are exactly a double with few bits (1.1344757080078125, as Python writes a float32) and exact ties.
    /// </summary>
    private static bool TryComposeExactly(ulong digits, int exponent, out double value)
    {
        value = 0;
        UInt128 quotient;
        bool inexact;
        int scale;
        if (exponent >= 0 && exponent <= 19)
        {
            // An integer below 2^64 × 10^19 < 2^128.
            quotient = (UInt128)digits * Pow10(exponent);
            inexact = false;
            scale = 0;
        }
        else if (exponent < 0 && exponent >= -22)
        {
            // digits × 2^s ÷ 10^k with the dividend in [2^127, 2^128): since 10^22 < 2^74, the quotient has more than
            // 53 bits, and the remainder says whether anything is left below it.
            var shift = 64 + BitOperations.LeadingZeroCount(digits);
            var dividend = (UInt128)digits << shift;
            var divisor = Pow10(-exponent);
            quotient = dividend / divisor;
            inexact = dividend - (quotient * divisor) != UInt128.Zero;
            scale = -shift;
        }
        else
        {
            return false;
        }

        // Round the quotient to 53 bits, ties to even, the remainder counting as bits below.
        var length = 128 - (int)UInt128.LeadingZeroCount(quotient);
        var drop = length - 53;
        ulong mantissa;
        if (drop <= 0)
        {
            mantissa = (ulong)quotient << -drop;
        }
        else
        {
            mantissa = (ulong)(quotient >> drop);
            var rest = quotient & ((UInt128.One << drop) - 1);
            var half = UInt128.One << (drop - 1);
            if (rest > half || (rest == half && (inexact || (mantissa & 1) == 1)))
            {
                mantissa++;
            }
        }

        return TryAssemble(mantissa, scale + length - 1, out value);
    }

    /// <summary>
    /// The normal double with the rounded 53-bit <paramref name="mantissa"/> (2^53 when rounding carried out of it) and
    /// the power of two of its leading bit; false when that is subnormal or beyond the largest double.
    /// </summary>
    private static bool TryAssemble(ulong mantissa, int binaryExponent, out double value)
    {
        value = 0;
        if (mantissa >> 53 != 0)
        {
            mantissa >>= 1;
            binaryExponent++;
        }

        var biased = binaryExponent + 1023;
        if (biased <= 0 || biased >= 0x7FF)
        {
            return false;
        }

        value = BitConverter.UInt64BitsToDouble(((ulong)biased << 52) | (mantissa & ((1UL << 52) - 1)));
        return true;
    }

    /// <summary>
    /// 5^q for q in [<see cref="MinExponent"/>, <see cref="MaxExponent"/>] as a 128-bit mantissa T in [2^127, 2^128)
    /// and a binary exponent e with 5^q ≈ T × 2^e, T truncated (never above the true value). Computed once, exactly,
    /// with big integers (about 1 ms).
    /// </summary>
    private static class PowersOfFive
    {
        /// <summary>High and low 64 bits of each T, in pairs.</summary>
        public static readonly ulong[] Table;

        public static readonly int[] Exponents;

        static PowersOfFive()
        {
            const int count = MaxExponent - MinExponent + 1;
            Table = new ulong[2 * count];
            Exponents = new int[count];
            var mask = (BigInteger.One << 64) - 1;
            var power = BigInteger.One;
            for (var q = 0; q <= -MinExponent; q++, power *= 5)
            {
                var length = (int)power.GetBitLength();
                if (q <= MaxExponent)
                {
                    // 5^q, its top 128 bits.
                    var t = length <= 128 ? power << (128 - length) : power >> (length - 128);
                    Set(q, t, length - 128);
                }

                if (q > 0)
                {
                    // 5^-q = 2^b / 5^q × 2^-b, with b such that the quotient has 128 bits; 5^q is never a power of two,
                    // so 2^(length-1) < 5^q < 2^length puts the quotient strictly between 2^127 and 2^128.
                    var b = length + 127;
                    Set(-q, (BigInteger.One << b) / power, -b);
                }
            }

            void Set(int q, BigInteger t, int e)
            {
                var index = q - MinExponent;
                Table[2 * index] = (ulong)(t >> 64);
                Table[(2 * index) + 1] = (ulong)(t & mask);
                Exponents[index] = e;
            }
        }
    }
}
