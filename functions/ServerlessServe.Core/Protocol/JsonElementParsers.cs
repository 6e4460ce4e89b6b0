using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Unicode;

namespace ServerlessServe.Core.Protocol;

/// <summary>Reads one tensor element of type <typeparamref name="T"/> from the current JSON token, without allocating (except BYTES).</summary>
internal interface IJsonElementParser<T>
{
    /// <summary>Whether <see cref="TryReadNumber"/> can read this type's elements straight from the JSON's bytes.</summary>
    static virtual bool ReadsNumbers => false;

    static abstract ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out T value);

    /// <summary>
    /// The element whose JSON number starts <paramref name="text"/>, and the number's length: true only when the
    /// number is valid JSON and <see cref="TryRead"/> would give this value with <see cref="ElementStatus.Ok"/>.
    /// Anything else (not a number, out of range, undecided) is false, and the reader's own path decides.
    /// </summary>
    static virtual bool TryReadNumber(ReadOnlySpan<byte> text, out T value, out int length)
    {
        value = default!;
        length = 0;
        return false;
    }
}

/// <summary>Element parsers, one per V2 datatype. Structs, so the generic data reader is specialised for each.</summary>
internal static class JsonElementParsers
{
    internal readonly struct Bool : IJsonElementParser<bool>
    {
        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out bool value)
        {
            value = reader.TokenType == JsonTokenType.True;
            return reader.TokenType is JsonTokenType.True or JsonTokenType.False ? ElementStatus.Ok : ElementStatus.WrongType;
        }
    }

    internal readonly struct UInt8 : IJsonElementParser<byte>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out byte value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out byte value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetByte(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct UInt16 : IJsonElementParser<ushort>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out ushort value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out ushort value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetUInt16(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct UInt32 : IJsonElementParser<uint>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out uint value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out uint value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetUInt32(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct UInt64 : IJsonElementParser<ulong>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out ulong value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out ulong value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetUInt64(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct Int8 : IJsonElementParser<sbyte>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out sbyte value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out sbyte value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetSByte(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct Int16 : IJsonElementParser<short>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out short value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out short value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetInt16(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct Int32 : IJsonElementParser<int>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out int value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out int value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetInt32(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct Int64 : IJsonElementParser<long>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out long value, out int length) => TryReadInteger(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out long value)
        {
            value = 0;
            return reader.TokenType != JsonTokenType.Number ? ElementStatus.WrongType
                : reader.TryGetInt64(out value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    /// <summary>FP16 from a JSON number: parsed as a double, rounded to nearest; beyond ±65504 (rounding to infinity) is out of range.</summary>
    internal readonly struct Fp16 : IJsonElementParser<Half>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out Half value, out int length)
        {
            value = JsonNumbers.TryParseDouble(text, out var d, out length) ? (Half)d : Half.NaN;
            return Half.IsFinite(value);
        }

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out Half value)
        {
            value = default;
            if (reader.TokenType != JsonTokenType.Number)
            {
                return ElementStatus.WrongType;
            }

            if (!TryGetDouble(ref reader, out var d))
            {
                return ElementStatus.OutOfRange;
            }

            value = (Half)d;
            return Half.IsFinite(value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    /// <summary>
    /// FP32 from a JSON number, the nearest float (<see cref="JsonNumbers"/> when it decides, .NET's number parser otherwise);
    /// numbers beyond the float range (which would round to infinity) are out of range.
    /// </summary>
    internal readonly struct Fp32 : IJsonElementParser<float>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out float value, out int length) =>
            JsonNumbers.TryParseSingle(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out float value)
        {
            value = 0;
            if (reader.TokenType != JsonTokenType.Number)
            {
                return ElementStatus.WrongType;
            }

            return TryGetSingle(ref reader, out value) && float.IsFinite(value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    internal readonly struct Fp64 : IJsonElementParser<double>
    {
        public static bool ReadsNumbers => true;

        public static bool TryReadNumber(ReadOnlySpan<byte> text, out double value, out int length) =>
            JsonNumbers.TryParseDouble(text, out value, out length);

        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out double value)
        {
            value = 0;
            if (reader.TokenType != JsonTokenType.Number)
            {
                return ElementStatus.WrongType;
            }

            return TryGetDouble(ref reader, out value) && double.IsFinite(value) ? ElementStatus.Ok : ElementStatus.OutOfRange;
        }
    }

    /// <summary>
    /// An integer element read from the bytes: a JSON integer within <typeparamref name="T"/>'s range. Declines
    /// <c>-0</c> and everything else, which the reader's path reads or refuses as before.
    /// </summary>
    private static bool TryReadInteger<T>(ReadOnlySpan<byte> text, out T value, out int length)
        where T : IBinaryInteger<T>, IMinMaxValue<T>
    {
        value = T.Zero;
        if (!JsonNumbers.TryParseInteger(text, out var negative, out var magnitude, out length) || (negative && magnitude == 0))
        {
            return false;
        }

        var signed = negative ? -(Int128)magnitude : magnitude;
        if (signed < Int128.CreateTruncating(T.MinValue) || signed > Int128.CreateTruncating(T.MaxValue))
        {
            return false;
        }

        value = T.CreateTruncating(signed);
        return true;
    }

    /// <summary>
    /// The number token as the nearest double: <see cref="JsonNumbers"/> when it decides, .NET's number parser
    /// otherwise. Not the reader's own conversion (<c>Utf8Parser</c>), which rounds some exact ties written with
    /// trailing zeros away from even (15828781656352337.000 to ...338, where the nearest-even double is ...336).
    /// </summary>
    internal static bool TryGetDouble(ref Utf8JsonReader reader, out double value) =>
        reader.HasValueSequence
            ? reader.TryGetDouble(out value)
            : JsonNumbers.TryParseDouble(reader.ValueSpan, out value)
                || double.TryParse(reader.ValueSpan, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>As <see cref="TryGetDouble"/>, the nearest float.</summary>
    private static bool TryGetSingle(ref Utf8JsonReader reader, out float value) =>
        reader.HasValueSequence
            ? reader.TryGetSingle(out value)
            : JsonNumbers.TryParseSingle(reader.ValueSpan, out value)
                || float.TryParse(reader.ValueSpan, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>BYTES from a JSON string: the string's UTF-8 bytes after unescaping.</summary>
    internal readonly struct Bytes : IJsonElementParser<byte[]>
    {
        public static ElementStatus TryRead(ref Utf8JsonReader reader, int maxBytesLength, out byte[] value)
        {
            value = [];
            if (reader.TokenType != JsonTokenType.String)
            {
                return ElementStatus.WrongType;
            }

            var raw = reader.ValueSpan;
            if (!reader.ValueIsEscaped)
            {
                if (raw.Length > maxBytesLength)
                {
                    return ElementStatus.TooLong;
                }

                if (!Utf8.IsValid(raw))
                {
                    return ElementStatus.WrongType;
                }

                value = raw.ToArray();
                return ElementStatus.Ok;
            }

            // Unescaping never lengthens the text, so the raw length bounds the buffer.
            var rented = ArrayPool<byte>.Shared.Rent(raw.Length);
            try
            {
                int written;
                try
                {
                    written = reader.CopyString(rented);
                }
                catch (InvalidOperationException)
                {
                    return ElementStatus.WrongType;
                }

                var text = rented.AsSpan(0, written);
                if (written > maxBytesLength)
                {
                    return ElementStatus.TooLong;
                }

                if (!Utf8.IsValid(text))
                {
                    return ElementStatus.WrongType;
                }

                value = text.ToArray();
                return ElementStatus.Ok;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }
}
