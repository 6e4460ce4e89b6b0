using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// The strict reader of V2 request and response bodies, on <see cref="Utf8JsonReader"/>: closed property sets at
/// every level, duplicates refused, depth and size caps checked before allocation, data parsed straight into typed
/// arrays. One instance reads one body (it counts elements across tensors). Partial by concern: the bodies
/// (this file), tensors, data and parameters.
/// </summary>
internal sealed partial class V2BodyReader
{
    private readonly ProtocolLimits _limits;
    private readonly BodyLocation _root;
    private readonly TensorLease? _lease;
    private long _elements;
    private long _bytesElements;
    private int _jsonLength;

    /// <summary>For tests, on this thread: read every data array token by token, as before numbers were read from the bytes.</summary>
    [ThreadStatic]
    internal static bool NumbersTokenByToken;

    // The reader's span: its length, and where the current reader starts in it (not at 0 after a flat numeric array
    // was read from the bytes and the reader made again past it: see TryReadNumbers).
    private int _readerLength;
    private int _readerStart;

    private V2BodyReader(ProtocolLimits limits, BodyLocation root, TensorLease? lease = null)
    {
        _limits = limits;
        _root = root;
        _lease = lease;
    }

    /// <summary>Reads a request; its numeric tensors go into arrays rented from <paramref name="lease"/> when given.</summary>
    public static InferenceRequest ReadRequest(ReadOnlySpan<byte> body, int? headerLength, ProtocolLimits limits, TensorLease? lease = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var state = new V2BodyReader(limits, BodyLocation.Request, lease);
        var json = state.Split(body, headerLength, out var binary);
        var reader = state.CreateReader(json);
        try
        {
            return state.ParseRequest(ref reader, binary, headerLength.HasValue);
        }
        catch (JsonException)
        {
            throw RefusedException.Invalid("request body is not valid JSON");
        }
    }

    public static InferenceResponse ReadResponse(ReadOnlySpan<byte> body, int? headerLength, ProtocolLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var state = new V2BodyReader(limits, BodyLocation.Response);
        var json = state.Split(body, headerLength, out var binary);
        var reader = state.CreateReader(json);
        try
        {
            return state.ParseResponse(ref reader, binary, headerLength.HasValue);
        }
        catch (JsonException)
        {
            throw RefusedException.Invalid("response body is not valid JSON");
        }
    }

    /// <summary>Applies the body cap and splits the body at the JSON header length, when there is one.</summary>
    private ReadOnlySpan<byte> Split(ReadOnlySpan<byte> body, int? headerLength, out ReadOnlySpan<byte> binary)
    {
        if (body.Length > _limits.MaxBodyBytes)
        {
            throw RefusedException.TooLarge($"{_root} body exceeds {_limits.MaxBodyBytes} bytes");
        }

        binary = [];
        if (headerLength is not { } length)
        {
            _jsonLength = body.Length;
            return body;
        }

        if (length < 0 || length > body.Length)
        {
            throw _root.Error($"{EncodedBody.HeaderLengthHeaderName} is negative or larger than the body");
        }

        binary = body[length..];
        _jsonLength = length;
        return body[..length];
    }

    private Utf8JsonReader CreateReader(ReadOnlySpan<byte> json)
    {
        _readerLength = json.Length;
        _readerStart = 0;
        return new(json, new JsonReaderOptions
        {
            // One more than our cap, so that our own check (with its clear message) fires first.
            MaxDepth = _limits.MaxJsonDepth + 1,
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
        });
    }

    private InferenceRequest ParseRequest(ref Utf8JsonReader reader, ReadOnlySpan<byte> binary, bool hasBinarySection)
    {
        var parts = ParseRequestParts(ref reader);
        return parts.With(Complete(parts.Inputs, binary, hasBinarySection));
    }

    /// <summary>A request's JSON, read whole: its inputs as headers, binary data not yet decoded.</summary>
    private RequestParts ParseRequestParts(ref Utf8JsonReader reader)
    {
        ReadRootObject(ref reader);
        uint seen = 0;
        string? id = null;
        Dictionary<string, ParameterValue>? parameters = null;
        List<TensorHeader>? inputs = null;
        List<RequestedOutput>? outputs = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("id"u8))
            {
                MarkSeen(ref seen, 0, _root);
                id = ReadString(ref reader, _limits.MaxIdLength, _root, "id");
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                MarkSeen(ref seen, 1, _root);
                parameters = ReadRequestParameters(ref reader);
            }
            else if (reader.ValueTextEquals("inputs"u8))
            {
                MarkSeen(ref seen, 2, _root);
                inputs = ReadTensorArray(ref reader, isInput: true);
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                MarkSeen(ref seen, 3, _root);
                // An empty list asks for every output, as leaving it out does (Triton reads it so); kept empty, the
                // inference app ran every output (none named) and the gateway then released none of them (none asked for).
                outputs = ReadRequestedOutputs(ref reader) is { Count: > 0 } named ? named : null;
            }
            else
            {
                throw _root.Error("unknown property");
            }
        }

        EnsureEndOfDocument(ref reader);
        if (inputs is null || inputs.Count == 0)
        {
            throw _root.Error("inputs are required");
        }

        return new RequestParts(id, parameters, inputs, outputs);
    }

    private InferenceResponse ParseResponse(ref Utf8JsonReader reader, ReadOnlySpan<byte> binary, bool hasBinarySection)
    {
        ReadRootObject(ref reader);
        uint seen = 0;
        string? modelName = null;
        string? modelVersion = null;
        string? id = null;
        Dictionary<string, ParameterValue>? parameters = null;
        List<TensorHeader>? outputs = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("model_name"u8))
            {
                MarkSeen(ref seen, 0, _root);
                modelName = ReadString(ref reader, _limits.MaxNameLength, _root, "model_name");
            }
            else if (reader.ValueTextEquals("model_version"u8))
            {
                MarkSeen(ref seen, 1, _root);
                modelVersion = ReadString(ref reader, _limits.MaxNameLength, _root, "model_version");
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                MarkSeen(ref seen, 2, _root);
                id = ReadString(ref reader, _limits.MaxIdLength, _root, "id");
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                MarkSeen(ref seen, 3, _root);
                parameters = ReadOpenParameters(ref reader, _root);
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                MarkSeen(ref seen, 4, _root);
                outputs = ReadTensorArray(ref reader, isInput: false);
            }
            else
            {
                throw _root.Error("unknown property");
            }
        }

        EnsureEndOfDocument(ref reader);
        if (string.IsNullOrEmpty(modelName))
        {
            throw _root.Error("model_name is required");
        }

        var tensors = Complete(outputs ?? [], binary, hasBinarySection);
        return new InferenceResponse
        {
            ModelName = modelName,
            ModelVersion = modelVersion,
            Id = id,
            Parameters = parameters ?? [],
            Outputs = tensors,
        };
    }

    /// <summary>Decodes the binary section into the tensors that declared <c>binary_data_size</c>, in order, and checks names are unique.</summary>
    private Tensor[] Complete(List<TensorHeader> headers, ReadOnlySpan<byte> binary, bool hasBinarySection)
    {
        EnsureUniqueNames(headers);
        var tensors = new Tensor[headers.Count];
        var offset = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            var header = headers[i];
            var data = header.Data;
            if (header.BinarySize is { } size)
            {
                if (!hasBinarySection)
                {
                    throw header.Where.Error($"binary_data_size needs the {EncodedBody.HeaderLengthHeaderName} header");
                }

                if (size > binary.Length - offset)
                {
                    throw header.Where.Error("binary data is shorter than binary_data_size");
                }

                data = BinaryTensorCodec.Decode(binary.Slice(offset, size), header.DataType, header.Count, _limits.MaxBytesElementLength, header.Where, _lease);
                offset += size;
            }

            tensors[i] = ToTensor(header, data!);
        }

        if (offset != binary.Length)
        {
            throw _root.Error("binary section is longer than the tensors' binary_data_size total");
        }

        return tensors;
    }

    private static void EnsureUniqueNames(List<TensorHeader> headers)
    {
        var names = new HashSet<string>(headers.Count, StringComparer.Ordinal);
        foreach (var header in headers)
        {
            if (!names.Add(header.Name))
            {
                throw header.Where.Error("duplicate tensor name");
            }
        }
    }

    /// <summary>The tensor of <paramref name="header"/> over <paramref name="data"/>; only one whose array came from the pool names the lease (readers that outlive the request hold it).</summary>
    private Tensor ToTensor(TensorHeader header, Array data)
    {
        var pooled = _lease is not null && _lease.Pools(header.DataType, data.Length);
        return new Tensor(header.Name, header.DataType, header.Shape, data) { Lease = pooled ? _lease : null };
    }

    private void ReadRootObject(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw RefusedException.Invalid($"{_root} body must be a JSON object");
        }
    }

    private static void EnsureEndOfDocument(ref Utf8JsonReader reader)
    {
        // Throws JsonException on anything but whitespace after the root object.
        if (reader.Read())
        {
            throw new JsonException();
        }
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException();
        }

        return reader.TokenType switch
        {
            // A name with an unpaired surrogate escape is not I-JSON, and comparing it would throw (JsonEscapes). A name
            // longer than any the protocol reads (a parameter's, at most the configurable MaxNameLength's top of 65,536
            // characters, 6 bytes each escaped) is refused before it is decoded: a 16 MiB escaped unknown name rented a
            // 32 MiB buffer to be refused anyway (found in review 2026-12-07).
            JsonTokenType.PropertyName => RawLength(ref reader) <= MaxPropertyNameBytes && JsonEscapes.IsWellFormed(ref reader) ? true : throw new JsonException(),
            JsonTokenType.EndObject => false,
            _ => throw new JsonException(),
        };
    }

    // 6 bytes (\uXXXX) for each of the most characters a name may have.
    private const long MaxPropertyNameBytes = 6L * 65536;

    // The current token's length as it is in the body, escapes and all.
    private static long RawLength(ref Utf8JsonReader reader) => reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;

    private static void MarkSeen(ref uint seen, int bit, BodyLocation where)
    {
        var flag = 1u << bit;
        if ((seen & flag) != 0)
        {
            throw where.Error("duplicate property");
        }

        seen |= flag;
    }

    /// <summary>Refuses a container token that would nest deeper than <see cref="ProtocolLimits.MaxJsonDepth"/>.</summary>
    private void CheckDepth(ref Utf8JsonReader reader)
    {
        // CurrentDepth of a container's start token is the number of containers around it.
        if (reader.CurrentDepth >= _limits.MaxJsonDepth)
        {
            throw RefusedException.Invalid($"{_root}: JSON nesting exceeds {_limits.MaxJsonDepth} levels");
        }
    }

    /// <summary>Skips the value at the reader (positioned on its first token), checking nesting depth as it goes.</summary>
    private void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject))
        {
            return;
        }

        CheckDepth(ref reader);
        var depth = reader.CurrentDepth;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray or JsonTokenType.StartObject:
                    CheckDepth(ref reader);
                    break;
                case JsonTokenType.EndArray or JsonTokenType.EndObject when reader.CurrentDepth == depth:
                    return;
            }
        }

        throw new JsonException();
    }

    private static string ReadString(ref Utf8JsonReader reader, int maxLength, BodyLocation where, string property)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.String)
        {
            throw where.Error($"{property} must be a string");
        }

        // An escape takes at most 6 bytes per UTF-16 unit: refuse hopeless lengths before decoding.
        if (reader.ValueSpan.Length > (long)maxLength * 6)
        {
            throw where.Error($"{property} is longer than {maxLength} characters");
        }

        string value;
        try
        {
            value = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw where.Error($"{property} is not valid UTF-8");
        }

        if (value.Length > maxLength)
        {
            throw where.Error($"{property} is longer than {maxLength} characters");
        }

        return value;
    }

    private void AccountElements(long count, TensorDataType type, BodyLocation where)
    {
        _elements += count;
        if (_elements > _limits.MaxElementsPerRequest)
        {
            throw RefusedException.TooLarge($"{where}: the {_root} holds more than {_limits.MaxElementsPerRequest} tensor elements");
        }

        if (type == TensorDataType.Bytes && (_bytesElements += count) > _limits.MaxBytesElementsPerRequest)
        {
            throw RefusedException.TooLarge($"{where}: the {_root} holds more than {_limits.MaxBytesElementsPerRequest} BYTES elements");
        }
    }
}
