using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Writes numbers as JSON. A float or double is the shortest decimal that reads back as the same value, and of those
/// the nearest to it, in exactly the bytes .NET writes (<c>float.TryFormat</c> and <c>Utf8JsonWriter</c>:
/// <c>0.0001</c>, <c>1E-05</c>, <c>123456780</c>, <c>1E+09</c>), except for two doubles .NET writes wrongly
/// (<see cref="FormatDouble"/>). For the values tensors carry (a float from about 4.3E-19 to 1.7E+07, a double from
/// 2.3E-10 to 9.0E+15, in magnitude) it finds the digits itself, in less than half .NET's time (docs/performance.md,
/// "JSON numbers written"); anything else it hands to .NET. Every float was compared with .NET, and hundreds of
/// millions of doubles (docs/protocol.md, "Floating-point numbers written in JSON"). Integers are written too.
/// </summary>
/// <remarks>
/// <para>The digits come from the value's rounding interval, the reals that read back as it: half the gap to the
/// neighbouring value either side (the gap below a power of two is half as wide), bounds included when the significand
/// is even, as .NET's parser rounds ties to even. The value is <c>X × 2^-t</c>, X four times the significand so that
/// the bounds are <c>X ± 2</c> (<c>X - 1</c> below a power of two). The value and both bounds are multiplied by a
/// power of ten and taken exactly, as integers with a flag for "no remainder": <c>X × 5^i / 2^q</c> in 64-bit or
/// 128-bit arithmetic, with 5^i held exactly in 64 bits, which is what limits the range.</para>
/// <para>The bounds' power of ten is the largest not above 2^-t, the unit X counts in, so the interval spans at least
/// three of its steps; the value is taken one digit finer (Adams, "Ryū: fast float-to-string conversion", 2018,
/// chooses the scale so). Digits are then dropped from all three while the interval still holds a number with one
/// digit fewer; the value, rounded half to even on the digits dropped, is the answer, moved up by one when it fell on
/// an excluded lower bound. An exact lower bound that ends in zeros is a shorter candidate of its own and is taken
/// when it is included.</para>
/// </remarks>
internal static class JsonNumberFormat
{
    /// <summary>
    /// The room <see cref="FormatSingle"/> and <see cref="FormatDouble"/> need after the number's first byte: the
    /// longest number (24 bytes, a double's <c>-1.2345678901234567E-308</c>) and the few bytes past its end that the
    /// digit stores may touch.
    /// </summary>
    public const int Room = 48;

    /// <summary>At least the longest float .NET or this writer gives (<c>-1.1754944E-38</c> and <c>-0.00012345678</c> are 14 bytes).</summary>
    public const int MaxSingleLength = 16;

    /// <summary>The longest double .NET or this writer gives (<c>-2.2250738585072014E-308</c>).</summary>
    public const int MaxDoubleLength = 24;

    /// <summary>The longest 64-bit integer (<c>-9223372036854775808</c>, <c>18446744073709551615</c>).</summary>
    public const int MaxIntegerLength = 20;

    private static readonly ulong[] PowersOfFive = MakePowers(5, 28);

    private static readonly ulong[] PowersOfTen = MakePowers(10, 20);

    /// <summary>
    /// Writes <paramref name="value"/> (finite) at the start of <paramref name="destination"/> as .NET's
    /// <c>float.TryFormat</c> does, and returns the number of bytes written. Bytes past those may have been changed
    /// when <paramref name="destination"/> holds at least <see cref="Room"/>.
    /// </summary>
    public static int FormatSingle(float value, Span<byte> destination)
    {
        if (destination.Length < Room || !TryFormatSingle(value, destination, out var written))
        {
            if (!value.TryFormat(destination, out written, default, CultureInfo.InvariantCulture))
            {
                throw new ArgumentException("The destination is too short for the number.", nameof(destination));
            }
        }

        return written;
    }

    /// <summary>
    /// As <see cref="FormatSingle"/>, for a double (<c>double.TryFormat</c>'s bytes), except where .NET's shortest form
    /// does not read back as the value (2^-25 and 2^-958: .NET 10 takes the interval below a power of two as wide as
    /// the one above). There the nearest 17 digits are written instead, which always read back.
    /// </summary>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        if (destination.Length < Room || !TryFormatDouble(value, destination, out var written))
        {
            if (!value.TryFormat(destination, out written, default, CultureInfo.InvariantCulture))
            {
                throw new ArgumentException("The destination is too short for the number.", nameof(destination));
            }

            if (!double.TryParse(destination[..written], NumberStyles.Float, CultureInfo.InvariantCulture, out var back)
                || BitConverter.DoubleToUInt64Bits(back) != BitConverter.DoubleToUInt64Bits(value))
            {
                if (!value.TryFormat(destination, out written, "G17", CultureInfo.InvariantCulture))
                {
                    throw new ArgumentException("The destination is too short for the number.", nameof(destination));
                }
            }
        }

        return written;
    }

    /// <summary>
    /// Writes an integer, <c>-</c> when <paramref name="negative"/> and then <paramref name="magnitude"/>'s digits, as
    /// .NET writes integers, and returns the number of bytes written. Bytes past those may have been changed when
    /// <paramref name="destination"/> holds at least <see cref="Room"/>.
    /// </summary>
    public static int FormatInteger(bool negative, ulong magnitude, Span<byte> destination)
    {
        if (destination.Length < Room || !BitConverter.IsLittleEndian)
        {
            var sign = negative ? 1 : 0;
            if (destination.Length < sign + 1 || !magnitude.TryFormat(destination[sign..], out var digits, default, CultureInfo.InvariantCulture))
            {
                throw new ArgumentException("The destination is too short for the number.", nameof(destination));
            }

            destination[0] = negative ? (byte)'-' : destination[0];
            return sign + digits;
        }

        ref var at = ref WriteSign(negative ? 1u : 0u, destination, out var length);
        if (magnitude < 10)
        {
            at = (byte)('0' + (uint)magnitude);
            return length + 1;
        }

        var count = DigitCount(magnitude);
        WriteDigits(magnitude, count, ref at);
        return length + count;
    }

    /// <summary>
    /// The shortest nearest decimal of <paramref name="value"/>, written as .NET writes it, when it is in this writer's
    /// range (and zero); otherwise false. <paramref name="destination"/> must hold at least <see cref="Room"/> bytes.
    /// The digit stores are little-endian words, so a big-endian machine always gets false.
    /// </summary>
    internal static bool TryFormatSingle(float value, Span<byte> destination, out int written)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        return TryFormat(bits >> 31, (int)(bits >> 23) & 0xFF, bits & 0x7F_FFFF, fractionBits: 23, exponentBias: 127, scientificFrom: 9, destination, out written);
    }

    /// <summary>As <see cref="TryFormatSingle"/>, for a double.</summary>
    internal static bool TryFormatDouble(double value, Span<byte> destination, out int written)
    {
        var bits = BitConverter.DoubleToUInt64Bits(value);
        return TryFormat((uint)(bits >> 63), (int)(bits >> 52) & 0x7FF, bits & 0xF_FFFF_FFFF_FFFF, fractionBits: 52, exponentBias: 1023, scientificFrom: 16, destination, out written);
    }

    /// <summary>
    /// A float or double from its fields (<paramref name="fractionBits"/> 23 or 52); written plain below
    /// 10^<paramref name="scientificFrom"/>.
    /// </summary>
    private static bool TryFormat(
        uint negative, int biasedExponent, ulong fraction, int fractionBits, int exponentBias, int scientificFrom, Span<byte> destination, out int written)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Room, nameof(destination));
        if (!BitConverter.IsLittleEndian)
        {
            written = 0;
            return false;
        }

        ref var at = ref WriteSign(negative, destination, out var sign);
        if (biasedExponent == 0 && fraction == 0)
        {
            at = (byte)'0';
            written = sign + 1;
            return true;
        }

        // The value is X × 2^-t with X = 4 × the significand (bounds at X ± 2, or X - 1 below a power of two): t is the
        // bias, the fraction's bits and the 2 of that 4, less the biased exponent (127 + 23 + 2 = 152 for a float).
        var t = exponentBias + fractionBits + 2 - biasedExponent;
        if (biasedExponent == 0 || !TryScale(t, out var q, out var i))
        {
            written = 0;
            return false;
        }

        var significand = fraction | (1ul << fractionBits);
        var digits = Shortest(4 * significand, fraction == 0 && biasedExponent > 1, q, i, out var exponent);
        written = sign + WriteDecimal(digits, exponent, ref at, scientificFrom);
        return true;
    }

    /// <summary>
    /// For a value <c>X × 2^-t</c>: <paramref name="q"/> is the power of two and <paramref name="i"/> the power of five
    /// that give it one digit more than the interval's scale (<c>X × 5^i / 2^q</c> is the value times 10^(t-q)).
    /// False where 5^i needs more than 64 bits or the value is an integer of 2^25 or more (no fraction to scale).
    /// </summary>
    private static bool TryScale(int t, out int q, out int i)
    {
        // floor(t × log10(5)) - 1; 732,923 / 2^20 is log10(5) to well within what t < 100 needs.
        q = (int)((t * 732_923L) >> 20) - 1;
        i = t - q;
        return t >= 2 && i < PowersOfFive.Length;
    }

    /// <summary>
    /// The shortest nearest decimal of <c>mv × 2^-t</c> (t = q + i), as digits and a power of ten.
    /// <paramref name="lowerCloser"/>: the value is a power of two, so the interval below it is half as wide.
    /// </summary>
    private static ulong Shortest(ulong mv, bool lowerCloser, int q, int i, out int exponent)
    {
        var acceptBounds = (mv & 4) == 0;
        var mp = mv + 2;
        var mm = mv - (lowerCloser ? 1ul : 2ul);

        // The value one digit finer than the bounds: its last digit is the first one dropped.
        var fine = Scale(mv, PowersOfFive[i], q);
        var vr = fine / 10;
        var lastDropped = (uint)(fine - (vr * 10));
        var coarse = q + 1;
        var vp = Scale(mp, PowersOfFive[i - 1], coarse);
        var vm = Scale(mm, PowersOfFive[i - 1], coarse);

        // Exact (no remainder) at these scales: the multiplier is odd, so only the shift can leave one.
        var vrExact = BitOperations.TrailingZeroCount(mv) >= q;
        var vmExactAndIncluded = acceptBounds && BitOperations.TrailingZeroCount(mm) >= coarse;
        if (!acceptBounds && BitOperations.TrailingZeroCount(mp) >= coarse)
        {
            vp--;
        }

        var dropped = 0;
        ulong digits;
        if (vmExactAndIncluded || vrExact)
        {
            // The rare path: an exact bound may itself be the answer, and an exact value may be a tie.
            while (vp / 10 > vm / 10)
            {
                vmExactAndIncluded &= vm % 10 == 0;
                vrExact &= lastDropped == 0;
                lastDropped = (uint)(vr % 10);
                vr /= 10;
                vp /= 10;
                vm /= 10;
                dropped++;
            }

            if (vmExactAndIncluded)
            {
                while (vm % 10 == 0)
                {
                    vrExact &= lastDropped == 0;
                    lastDropped = (uint)(vr % 10);
                    vr /= 10;
                    vp /= 10;
                    vm /= 10;
                    dropped++;
                }
            }

            if (vrExact && lastDropped == 5 && vr % 2 == 0)
            {
                lastDropped = 4;
            }

            digits = vr + ((vr == vm && !vmExactAndIncluded) || lastDropped >= 5 ? 1ul : 0ul);
        }
        else
        {
            // Values rounded to a few digits (as a policy's rounding leaves them) drop many: two at a time first.
            // Only the most significant digit dropped decides the rounding here, as more follow it that are not all 0.
            while (vp / 100 > vm / 100)
            {
                lastDropped = (uint)(vr % 100) / 10;
                vr /= 100;
                vp /= 100;
                vm /= 100;
                dropped += 2;
            }

            while (vp / 10 > vm / 10)
            {
                lastDropped = (uint)(vr % 10);
                vr /= 10;
                vp /= 10;
                vm /= 10;
                dropped++;
            }

            digits = vr + (vr == vm || lastDropped >= 5 ? 1ul : 0ul);
        }

        exponent = coarse - q - i + dropped;
        return digits;
    }

    /// <summary><c>floor(x × multiplier / 2^shift)</c>, the product taken in 128 bits.</summary>
    private static ulong Scale(ulong x, ulong multiplier, int shift)
    {
        var high = Math.BigMul(x, multiplier, out var low);
        return shift == 0 ? low : (high << (64 - shift)) | (low >> shift);
    }

    private static ref byte WriteSign(uint negative, Span<byte> destination, out int length)
    {
        ref var start = ref MemoryMarshal.GetReference(destination);
        start = (byte)'-';
        length = (int)negative;
        return ref Unsafe.Add(ref start, length);
    }

    /// <summary>
    /// Writes <c>digits × 10^exponent</c> as .NET's shortest format does: plain from 1E-04 up to (not including)
    /// 10^<paramref name="scientificFrom"/>, otherwise <c>d.dddE±xx</c>. At least <see cref="Room"/> bytes are free.
    /// </summary>
    private static int WriteDecimal(ulong digits, int exponent, ref byte at, int scientificFrom)
    {
        var count = DigitCount(digits);
        var point = exponent + count - 1;
        if (point < -4 || point >= scientificFrom)
        {
            // d.ddd, written one place right and the first digit moved back over the point.
            WriteDigits(digits, count, ref Unsafe.Add(ref at, 1));
            at = Unsafe.Add(ref at, 1);
            var length = 1;
            if (count > 1)
            {
                Unsafe.Add(ref at, 1) = (byte)'.';
                length = count + 1;
            }

            Unsafe.Add(ref at, length) = (byte)'E';
            Unsafe.Add(ref at, length + 1) = point < 0 ? (byte)'-' : (byte)'+';
            length += 2;
            var magnitude = Math.Abs(point);
            if (magnitude >= 100)
            {
                Unsafe.Add(ref at, length++) = (byte)('0' + (magnitude / 100));
                magnitude %= 100;
            }

            Unsafe.Add(ref at, length) = (byte)('0' + (magnitude / 10));
            Unsafe.Add(ref at, length + 1) = (byte)('0' + (magnitude % 10));
            return length + 2;
        }

        if (point < 0)
        {
            // 0.000ddd: at most three zeros after the point.
            Unsafe.WriteUnaligned(ref at, 0x30303030_30302E30ul);
            var start = 1 - point;
            WriteDigits(digits, count, ref Unsafe.Add(ref at, start));
            return start + count;
        }

        if (point >= count - 1)
        {
            // An integer: the digits, then zeros up to the point.
            WriteDigits(digits, count, ref at);
            for (var k = count; k <= point; k += 8)
            {
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, k), 0x30303030_30303030ul);
            }

            return point + 1;
        }

        // ddd.ddd: written one place right, and the integer part moved back over the point.
        WriteDigits(digits, count, ref Unsafe.Add(ref at, 1));
        for (var k = 0; k <= point; k++)
        {
            Unsafe.Add(ref at, k) = Unsafe.Add(ref at, k + 1);
        }

        Unsafe.Add(ref at, point + 1) = (byte)'.';
        return count + 1;
    }

    private static int DigitCount(ulong value)
    {
        // floor(log10) from the bit length, low by at most one.
        var guess = ((BitOperations.Log2(value) + 1) * 1233) >> 12;
        return guess + (guess < PowersOfTen.Length && value >= PowersOfTen[guess] ? 1 : 0);
    }

    /// <summary>Writes the <paramref name="count"/> digits of <paramref name="value"/>; may write up to 8 bytes past them.</summary>
    private static void WriteDigits(ulong value, int count, ref byte at)
    {
        if (count <= 8)
        {
            Unsafe.WriteUnaligned(ref at, EightDigits((uint)value) >> (8 * (8 - count)));
            return;
        }

        const ulong Eight = 100_000_000;
        var high = value / Eight;
        var low = (uint)(value - (high * Eight));
        WriteDigits(high, count - 8, ref at);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref at, count - 8), EightDigits(low));
    }

    /// <summary>
    /// The eight ASCII digits of <paramref name="value"/> (below 10^8, leading zeros included), first digit in the
    /// lowest byte of the little-endian word: split into halves of four digits in 32-bit lanes, then pairs in 16-bit lanes, then digits in bytes,
    /// each step one multiply-shift that divides every lane at once (exact for the lanes' ranges).
    /// </summary>
    internal static ulong EightDigits(uint value)
    {
        ulong high = value / 10_000;
        var fours = high | ((value - (high * 10_000)) << 32);
        var hundreds = ((fours * 10_486) >> 20) & 0x0000_007F_0000_007F;
        var pairs = hundreds | ((fours - (hundreds * 100)) << 16);
        var tens = ((pairs * 103) >> 10) & 0x000F_000F_000F_000F;
        return tens | ((pairs - (tens * 10)) << 8) | 0x3030_3030_3030_3030;
    }

    private static ulong[] MakePowers(ulong radix, int count)
    {
        var powers = new ulong[count];
        powers[0] = 1;
        for (var k = 1; k < count; k++)
        {
            powers[k] = powers[k - 1] * radix;
        }

        return powers;
    }
}
