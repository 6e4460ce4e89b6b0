using System.Runtime.InteropServices;
using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

internal sealed partial class V2BodyReader
{
    /// <summary>
    /// Reads <c>data</c> (reader on its first token) into a new array of <paramref name="count"/> elements: either a
    /// flat array in row-major order or arrays nested exactly as <paramref name="shape"/>.
    /// </summary>
    private Array ReadData(ref Utf8JsonReader reader, TensorDataType type, long[] shape, int count, BodyLocation where)
    {
        AccountElements(count, type, where);
        return type switch
        {
            TensorDataType.Bool => ReadElements<bool, JsonElementParsers.Bool>(ref reader, type, shape, count, where),
            TensorDataType.UInt8 => ReadElements<byte, JsonElementParsers.UInt8>(ref reader, type, shape, count, where),
            TensorDataType.UInt16 => ReadElements<ushort, JsonElementParsers.UInt16>(ref reader, type, shape, count, where),
            TensorDataType.UInt32 => ReadElements<uint, JsonElementParsers.UInt32>(ref reader, type, shape, count, where),
            TensorDataType.UInt64 => ReadElements<ulong, JsonElementParsers.UInt64>(ref reader, type, shape, count, where),
            TensorDataType.Int8 => ReadElements<sbyte, JsonElementParsers.Int8>(ref reader, type, shape, count, where),
            TensorDataType.Int16 => ReadElements<short, JsonElementParsers.Int16>(ref reader, type, shape, count, where),
            TensorDataType.Int32 => ReadElements<int, JsonElementParsers.Int32>(ref reader, type, shape, count, where),
            TensorDataType.Int64 => ReadElements<long, JsonElementParsers.Int64>(ref reader, type, shape, count, where),
            TensorDataType.Fp16 => ReadElements<Half, JsonElementParsers.Fp16>(ref reader, type, shape, count, where),
            TensorDataType.Fp32 => ReadElements<float, JsonElementParsers.Fp32>(ref reader, type, shape, count, where),
            TensorDataType.Fp64 => ReadElements<double, JsonElementParsers.Fp64>(ref reader, type, shape, count, where),
            TensorDataType.Bytes => ReadElements<byte[], JsonElementParsers.Bytes>(ref reader, type, shape, count, where),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    private T[] ReadElements<T, TParser>(ref Utf8JsonReader reader, TensorDataType type, long[] shape, int count, BodyLocation where)
        where TParser : IJsonElementParser<T>
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw where.Error("data must be an array");
        }

        CheckDepth(ref reader);

        // Allocate only what the rest of the JSON could possibly fill, so that memory is bounded by the body's size
        // and not by the declared shape.
        if ((long)count * MinJsonBytesPerElement(type) > _jsonLength - (_readerStart + reader.BytesConsumed))
        {
            throw where.Error("data does not match shape");
        }

        // From the request's lease when it has one (large tensors from the pool): every element is written below, or
        // the body is refused.
        var data = _lease is not null && type != TensorDataType.Bytes ? (T[])_lease.Rent(type, count) : GC.AllocateUninitializedArray<T>(count);
        var position = 0;

        // The first element decides the form: an array means nested (one level per dimension), anything else flat.
        var probe = reader;
        probe.Read();
        if (probe.TokenType == JsonTokenType.StartArray)
        {
            ReadLevel<T, TParser>(ref reader, data, ref position, type, shape, 0, where);
            return data;
        }

        if (TParser.ReadsNumbers && !NumbersTokenByToken && TryReadNumbers<T, TParser>(ref reader, data))
        {
            return data;
        }

        var maxBytes = _limits.MaxBytesElementLength;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (position >= data.Length)
            {
                throw where.Error("data does not match shape");
            }

            var status = TParser.TryRead(ref reader, maxBytes, out data[position]);
            if (status != ElementStatus.Ok)
            {
                throw ElementError(status, position, type, where);
            }

            position++;
        }

        if (position != data.Length)
        {
            throw where.Error("data does not match shape");
        }

        return data;
    }

    /// <summary>
    /// Reads an array of numbers (reader on its <c>[</c>: flat data, or the innermost level of nested data) straight
    /// from the JSON's bytes, without a token for each element, and moves the reader to the array's <c>]</c>: true
    /// when the array held exactly <paramref name="data"/>'s length of numbers that <typeparamref name="TParser"/> read. Anything else (a
    /// string, a nested array, a number it declines, a count that does not match, anything that is not JSON) is
    /// false: the reader has not moved, and reading the array token by token gives its value or its refusal.
    /// </summary>
    /// <remarks>
    /// Between the numbers only what JSON allows there is accepted: whitespace and one comma; the numbers are
    /// checked against JSON's grammar by <see cref="JsonNumbers"/>. The reader is made again at the <c>]</c> from its
    /// state at the <c>[</c> (depth, options, an array open), which is the state it would have had there.
    /// </remarks>
    private bool TryReadNumbers<T, TParser>(ref Utf8JsonReader reader, Span<T> data)
        where TParser : IJsonElementParser<T>
    {
        // The reader's span from the '[' on: its token is a slice of that span.
        var bracket = (int)reader.TokenStartIndex;
        var rest = MemoryMarshal.CreateReadOnlySpan(
            ref MemoryMarshal.GetReference(reader.ValueSpan), _readerLength - _readerStart - bracket);
        var at = 1;
        var position = 0;
        while (true)
        {
            at = SkipWhitespace(rest, at);
            if (position == data.Length || !TParser.TryReadNumber(rest[at..], out data[position], out var length))
            {
                return false;
            }

            position++;
            at = SkipWhitespace(rest, at + length);
            if (at == rest.Length)
            {
                return false;
            }

            if (rest[at] == (byte)',')
            {
                at++;
                continue;
            }

            if (rest[at] != (byte)']' || position != data.Length)
            {
                return false;
            }

            break;
        }

        var state = reader.CurrentState;
        _readerStart += bracket + at;
        reader = new Utf8JsonReader(rest[at..], isFinalBlock: true, state);
        reader.Read();
        return true;

        static int SkipWhitespace(ReadOnlySpan<byte> text, int at)
        {
            while (at < text.Length && text[at] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')
            {
                at++;
            }

            return at;
        }
    }

    /// <summary>
    /// The fewest JSON bytes one element of <paramref name="type"/> takes after the data array's opening bracket: its
    /// shortest literal (<c>0</c>, <c>true</c>, <c>""</c>) plus the <c>,</c> or <c>]</c> that must follow it, flat or
    /// nested. Whitespace and nesting brackets only add to it.
    /// </summary>
    internal static int MinJsonBytesPerElement(TensorDataType type) => type switch
    {
        TensorDataType.Bool => 5,
        TensorDataType.Bytes => 3,
        _ => 2,
    };

    /// <summary>Reads one level of nested data (reader on its start token): exactly <c>shape[level]</c> items.</summary>
    private void ReadLevel<T, TParser>(
        ref Utf8JsonReader reader, T[] data, ref int position, TensorDataType type, long[] shape, int level, BodyLocation where)
        where TParser : IJsonElementParser<T>
    {
        if (level >= shape.Length)
        {
            throw where.Error("data does not match shape");
        }

        CheckDepth(ref reader);
        var isLast = level == shape.Length - 1;
        var length = shape[level];

        // The innermost arrays hold the numbers: read each from the bytes when it can be (Python's tolist() nests).
        if (isLast && TParser.ReadsNumbers && !NumbersTokenByToken && length <= data.Length - position
            && TryReadNumbers<T, TParser>(ref reader, data.AsSpan(position, (int)length)))
        {
            position += (int)length;
            return;
        }

        var maxBytes = _limits.MaxBytesElementLength;
        long items = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (items++ >= length)
            {
                throw where.Error("data does not match shape");
            }

            if (!isLast)
            {
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    throw where.Error("data does not match shape");
                }

                ReadLevel<T, TParser>(ref reader, data, ref position, type, shape, level + 1, where);
                continue;
            }

            if (reader.TokenType is JsonTokenType.StartArray)
            {
                throw where.Error("data does not match shape");
            }

            var status = TParser.TryRead(ref reader, maxBytes, out data[position]);
            if (status != ElementStatus.Ok)
            {
                throw ElementError(status, position, type, where);
            }

            position++;
        }

        if (items != length)
        {
            throw where.Error("data does not match shape");
        }
    }

    private RefusedException ElementError(ElementStatus status, int position, TensorDataType type, BodyLocation where) => status switch
    {
        ElementStatus.OutOfRange => where.Error($"data element {position} is not representable as {type.ToWire()}"),
        ElementStatus.TooLong => where.Error($"data element {position} exceeds {_limits.MaxBytesElementLength} bytes"),
        _ => where.Error($"data element {position} has the wrong JSON type for {type.ToWire()}"),
    };
}
