using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

internal sealed partial class V2BodyReader
{
    private static readonly TensorDataType[] AllDataTypes = Enum.GetValues<TensorDataType>();

    /// <summary>Reads <c>inputs</c> (request) or <c>outputs</c> (response): an array of tensor objects.</summary>
    private List<TensorHeader> ReadTensorArray(ref Utf8JsonReader reader, bool isInput)
    {
        var property = isInput ? "inputs" : "outputs";
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw _root.Error($"{property} must be an array");
        }

        CheckDepth(ref reader);
        var tensors = new List<TensorHeader>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (tensors.Count >= _limits.MaxTensors)
            {
                throw _root.Error($"{property} has more than {_limits.MaxTensors} tensors");
            }

            var where = isInput ? BodyLocation.Input(tensors.Count) : BodyLocation.Output(tensors.Count);
            tensors.Add(ReadTensor(ref reader, where));
        }

        return tensors;
    }

    /// <summary>
    /// Reads one tensor object (reader on its start token). Properties may come in any order: when <c>data</c>
    /// precedes <c>shape</c> or <c>datatype</c>, a copy of the reader marks it and it is parsed once both are known.
    /// </summary>
    private TensorHeader ReadTensor(ref Utf8JsonReader reader, BodyLocation where)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw where.Error("must be an object");
        }

        CheckDepth(ref reader);
        uint seen = 0;
        string? name = null;
        long[]? shape = null;
        TensorDataType? dataType = null;
        int? binarySize = null;
        Array? data = null;
        var hasData = false;
        var count = 0;
        Utf8JsonReader deferredData = default;
        var deferredStart = 0;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("name"u8))
            {
                MarkSeen(ref seen, 0, where);
                name = ReadString(ref reader, _limits.MaxNameLength, where, "name");
                if (name.Length == 0)
                {
                    throw where.Error("name must not be empty");
                }
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                MarkSeen(ref seen, 1, where);
                shape = ReadShape(ref reader, where);
                count = CountElements(shape, where);
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                MarkSeen(ref seen, 2, where);
                dataType = ReadDataType(ref reader, where);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                MarkSeen(ref seen, 3, where);
                binarySize = ReadBinaryDataSize(ref reader, where);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                MarkSeen(ref seen, 4, where);
                hasData = true;
                if (!reader.Read())
                {
                    throw new JsonException();
                }

                if (shape is not null && dataType is { } known)
                {
                    data = ReadData(ref reader, known, shape, count, where);
                }
                else
                {
                    deferredData = reader;
                    deferredStart = _readerStart;
                    SkipValue(ref reader);
                }
            }
            else
            {
                throw where.Error("unknown property");
            }
        }

        if (name is null)
        {
            throw where.Error("name is required");
        }

        if (shape is null)
        {
            throw where.Error("shape is required");
        }

        if (dataType is not { } type)
        {
            throw where.Error("datatype is required");
        }

        if (binarySize.HasValue == hasData)
        {
            throw where.Error(hasData ? "data and binary_data_size are mutually exclusive" : "data or binary_data_size is required");
        }

        if (hasData && data is null)
        {
            // The saved reader's own start, for as long as it reads: the data may be read from its bytes, and the
            // reader made again, which moves only the saved reader.
            var start = _readerStart;
            _readerStart = deferredStart;
            try
            {
                data = ReadData(ref deferredData, type, shape, count, where);
            }
            finally
            {
                _readerStart = start;
            }
        }
        else if (binarySize.HasValue)
        {
            // Counted now, decoded with the binary section: the cap holds before anything is allocated.
            AccountElements(count, type, where);
        }

        return new TensorHeader(where, name, type, shape, count, binarySize, data);
    }

    private long[] ReadShape(ref Utf8JsonReader reader, BodyLocation where)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw where.Error("shape must be an array of non-negative integers");
        }

        CheckDepth(ref reader);

        // First pass on a copy: the rank, so that the shape is allocated once at its exact size.
        var probe = reader;
        var rank = 0;
        while (probe.Read() && probe.TokenType != JsonTokenType.EndArray)
        {
            if (probe.TokenType != JsonTokenType.Number)
            {
                throw where.Error("shape must be an array of non-negative integers");
            }

            if (++rank > _limits.MaxRank)
            {
                throw where.Error($"shape has more than {_limits.MaxRank} dimensions");
            }
        }

        var shape = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            reader.Read();
            if (!reader.TryGetInt64(out var dim) || dim < 0)
            {
                throw where.Error("shape must be an array of non-negative integers");
            }

            shape[i] = dim;
        }

        reader.Read();
        return shape;
    }

    private int CountElements(long[] shape, BodyLocation where)
    {
        var count = Tensor.ShapeElementCount(shape);
        if (count < 0 || count > _limits.MaxElementsPerRequest)
        {
            throw RefusedException.TooLarge($"{where}: shape holds more than {_limits.MaxElementsPerRequest} elements");
        }

        // A dimension above the element limit can only come with a zero beside it: no element, but a model that builds
        // tensors from its input's shape would allocate in proportion to that dimension.
        foreach (var dim in shape)
        {
            if (dim > _limits.MaxElementsPerRequest)
            {
                throw RefusedException.TooLarge($"{where}: a dimension of the shape is above {_limits.MaxElementsPerRequest}");
            }
        }

        return (int)count;
    }

    private static TensorDataType ReadDataType(ref Utf8JsonReader reader, BodyLocation where)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            throw where.Error("datatype must be a string");
        }

        // Comparing a value escaped with half a surrogate pair would throw (JsonEscapes); no datatype is such a value, nor
        // longer than 6 bytes a character escaped (checked first: decoding a long escaped value rents twice its length).
        if (RawLength(ref reader) > 6 * 8 || !JsonEscapes.IsWellFormed(ref reader))
        {
            throw where.Error("unknown datatype");
        }

        foreach (var type in AllDataTypes)
        {
            if (reader.ValueTextEquals(type.ToWire()))
            {
                return type;
            }
        }

        throw where.Error("unknown datatype");
    }

    /// <summary>Reads a request's <c>outputs</c>: objects with <c>name</c> and optional <c>parameters.binary_data</c>.</summary>
    private List<RequestedOutput> ReadRequestedOutputs(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw _root.Error("outputs must be an array");
        }

        CheckDepth(ref reader);
        var outputs = new List<RequestedOutput>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (outputs.Count >= _limits.MaxTensors)
            {
                throw _root.Error($"outputs has more than {_limits.MaxTensors} entries");
            }

            var where = BodyLocation.Output(outputs.Count);
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw where.Error("must be an object");
            }

            CheckDepth(ref reader);
            uint seen = 0;
            string? name = null;
            bool? binaryData = null;
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("name"u8))
                {
                    MarkSeen(ref seen, 0, where);
                    name = ReadString(ref reader, _limits.MaxNameLength, where, "name");
                }
                else if (reader.ValueTextEquals("parameters"u8))
                {
                    MarkSeen(ref seen, 1, where);
                    binaryData = ReadBinaryDataFlag(ref reader, where);
                }
                else
                {
                    throw where.Error("unknown property");
                }
            }

            if (string.IsNullOrEmpty(name))
            {
                throw where.Error("name is required");
            }

            if (!names.Add(name))
            {
                throw where.Error("duplicate output name");
            }

            outputs.Add(new RequestedOutput(name, binaryData));
        }

        return outputs;
    }

    /// <summary>A tensor as read from the JSON header; <see cref="Data"/> is null until its binary data is decoded.</summary>
    private sealed record TensorHeader(
        BodyLocation Where, string Name, TensorDataType DataType, long[] Shape, int Count, int? BinarySize, Array? Data);
}
