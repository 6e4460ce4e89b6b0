using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Unicode;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Writes V2 bodies: a JSON header, then (when any tensor goes binary) the raw tensors in order. The JSON is built
/// once in a growable buffer; the body is allocated once at its exact final size.
/// </summary>
internal static class V2BodyWriter
{
    // Relaxed escaping: bodies are application/json with nosniff, never embedded in HTML, so characters such as ' and
    // non-ASCII letters are written as themselves (quotes, backslashes and control characters are still escaped).
    /// <summary>For tests and benchmarks, on this thread: write floating-point data number by number, as before.</summary>
    [ThreadStatic]
    internal static bool FloatsByElement;

    /// <summary>The longest floating-point array put together before it is written (the writer's raw values stop at 166 MB).</summary>
    private const long MaxRawArrayBytes = 64L * 1024 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static EncodedBody WriteResponse(InferenceResponse response, Func<Tensor, bool> isBinary)
    {
        var outputs = response.Outputs;
        var binary = new bool[outputs.Count];
        for (var i = 0; i < outputs.Count; i++)
        {
            binary[i] = isBinary(outputs[i]);
        }

        var buffer = new ArrayBufferWriter<byte>(EstimateJsonSize(outputs, binary));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("model_name"u8, response.ModelName);
            if (response.ModelVersion is not null)
            {
                writer.WriteString("model_version"u8, response.ModelVersion);
            }

            if (response.Id is not null)
            {
                writer.WriteString("id"u8, response.Id);
            }

            WriteParameters(writer, response.Parameters, skip: null, extraFlag: null);
            writer.WritePropertyName("outputs"u8);
            WriteTensors(writer, outputs, binary, "output");
            writer.WriteEndObject();
        }

        return Finish(buffer, outputs, binary);
    }

    public static EncodedBody WriteRequest(InferenceRequest request, bool binaryInputs, bool binaryOutputs)
    {
        var binary = new bool[request.Inputs.Count];
        Array.Fill(binary, binaryInputs);
        return Finish(WriteRequestHeader(request, binary, binaryOutputs), request.Inputs, binary);
    }

    /// <summary>The JSON part of a request, with the tensors flagged in <paramref name="binary"/> announced as binary data that follows it.</summary>
    public static ArrayBufferWriter<byte> WriteRequestHeader(InferenceRequest request, bool[] binary, bool binaryOutputs)
    {
        var inputs = request.Inputs;
        var buffer = new ArrayBufferWriter<byte>(EstimateJsonSize(inputs, binary));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            if (request.Id is not null)
            {
                writer.WriteString("id"u8, request.Id);
            }

            WriteParameters(writer, request.Parameters, skip: V2ParameterNames.BinaryDataOutput, extraFlag: binaryOutputs ? V2ParameterNames.BinaryDataOutput : null);
            writer.WritePropertyName("inputs"u8);
            WriteTensors(writer, inputs, binary, "input");
            if (request.Outputs is { } outputs)
            {
                writer.WritePropertyName("outputs"u8);
                writer.WriteStartArray();
                foreach (var output in outputs)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name"u8, output.Name);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return buffer;
    }

    /// <summary>Writes a small JSON document with <paramref name="write"/>.</summary>
    public static byte[] WriteDocument<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer, state);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteParameters(Utf8JsonWriter writer, IReadOnlyDictionary<string, ParameterValue> parameters, string? skip, string? extraFlag)
    {
        var any = extraFlag is not null;
        foreach (var pair in parameters)
        {
            any |= !string.Equals(pair.Key, skip, StringComparison.Ordinal);
        }

        if (!any)
        {
            return;
        }

        writer.WritePropertyName("parameters"u8);
        writer.WriteStartObject();
        foreach (var (name, value) in parameters)
        {
            if (string.Equals(name, skip, StringComparison.Ordinal))
            {
                continue;
            }

            writer.WritePropertyName(name);
            switch (value.Kind)
            {
                case ParameterKind.Boolean:
                    value.TryGetBoolean(out var flag);
                    writer.WriteBooleanValue(flag);
                    break;
                case ParameterKind.Int64:
                    value.TryGetInt64(out var integer);
                    writer.WriteNumberValue(integer);
                    break;
                case ParameterKind.Double:
                    value.TryGetDouble(out var number);
                    writer.WriteNumberValue(number);
                    break;
                default:
                    value.TryGetString(out var text);
                    writer.WriteStringValue(text);
                    break;
            }
        }

        if (extraFlag is not null)
        {
            writer.WriteBoolean(extraFlag, true);
        }

        writer.WriteEndObject();
    }

    private static void WriteTensors(Utf8JsonWriter writer, IReadOnlyList<Tensor> tensors, bool[] binary, string kind)
    {
        writer.WriteStartArray();
        for (var i = 0; i < tensors.Count; i++)
        {
            var tensor = tensors[i];
            writer.WriteStartObject();
            TensorHeaderJson.Write(writer, tensor.Name, tensor.DataType, tensor.Shape);
            if (binary[i])
            {
                writer.WriteStartObject("parameters"u8);
                writer.WriteNumber("binary_data_size"u8, checked((int)BinaryTensorCodec.EncodedLength(tensor)));
                writer.WriteEndObject();
            }
            else
            {
                writer.WritePropertyName("data"u8);
                WriteJsonData(writer, tensor, kind, i);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteJsonData(Utf8JsonWriter writer, Tensor tensor, string kind, int index)
    {
        // Floating-point arrays are written whole; the rest element by element.
        switch (tensor.DataType)
        {
            case TensorDataType.Fp16:
                WriteFloatingPoint(writer, (Half[])tensor.Data, kind, index);
                return;
            case TensorDataType.Fp32:
                WriteFloatingPoint(writer, (float[])tensor.Data, kind, index);
                return;
            case TensorDataType.Fp64:
                WriteFloatingPoint(writer, (double[])tensor.Data, kind, index);
                return;
        }

        writer.WriteStartArray();
        // By datatype, not by runtime type: the CLR lets an int[] pass as a uint[] (and sbyte[] as byte[], ...).
        switch (tensor.DataType)
        {
            case TensorDataType.Bool:
                foreach (var v in (bool[])tensor.Data)
                {
                    writer.WriteBooleanValue(v);
                }

                break;
            case TensorDataType.UInt8:
                foreach (var v in (byte[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.UInt16:
                foreach (var v in (ushort[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.UInt32:
                foreach (var v in (uint[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.UInt64:
                foreach (var v in (ulong[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.Int8:
                foreach (var v in (sbyte[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.Int16:
                foreach (var v in (short[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.Int32:
                foreach (var v in (int[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.Int64:
                foreach (var v in (long[])tensor.Data)
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorDataType.Bytes:
                foreach (var v in (byte[][])tensor.Data)
                {
                    EnsureRepresentable(Utf8.IsValid(v), kind, index);
                    writer.WriteStringValue(v.AsSpan());
                }

                break;
            default:
                throw new ArgumentException("Tensor data has an unsupported element type.", nameof(tensor));
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// A floating-point tensor's data as one JSON array, in the bytes <see cref="Utf8JsonWriter"/> gives number by
    /// number (a half as the float it widens to), but formatted by <see cref="JsonNumberFormat"/> into a pooled buffer
    /// and handed to the writer whole: about 35 ns a float instead of 85 (docs/performance.md).
    /// </summary>
    private static void WriteFloatingPoint<T>(Utf8JsonWriter writer, T[] values, string kind, int index)
        where T : struct
    {
        if (FloatsByElement)
        {
            WriteFloatingPointByElement(writer, values, kind, index);
            return;
        }

        var longest = typeof(T) == typeof(double) ? JsonNumberFormat.MaxDoubleLength : JsonNumberFormat.MaxSingleLength;
        var size = 2 + ((long)values.Length * (longest + 1)) + JsonNumberFormat.Room;
        if (size > MaxRawArrayBytes)
        {
            WriteFloatingPointByElement(writer, values, kind, index);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)size);
        var at = 0;
        try
        {
            buffer[at++] = (byte)'[';
            for (var k = 0; k < values.Length; k++)
            {
                if (k > 0)
                {
                    buffer[at++] = (byte)',';
                }

                var room = buffer.AsSpan(at);
                if (typeof(T) == typeof(double))
                {
                    var value = Unsafe.As<T, double>(ref values[k]);
                    EnsureRepresentable(double.IsFinite(value), kind, index);
                    at += JsonNumberFormat.FormatDouble(value, room);
                }
                else
                {
                    var value = typeof(T) == typeof(Half) ? (float)Unsafe.As<T, Half>(ref values[k]) : Unsafe.As<T, float>(ref values[k]);
                    EnsureRepresentable(float.IsFinite(value), kind, index);
                    at += JsonNumberFormat.FormatSingle(value, room);
                }
            }

            buffer[at++] = (byte)']';
            writer.WriteRawValue(buffer.AsSpan(0, at), skipInputValidation: true);
        }
        finally
        {
            // The digit stores may have touched a few bytes past the last number.
            buffer.AsSpan(0, (int)Math.Min(buffer.Length, at + (long)JsonNumberFormat.Room)).Clear();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The same array number by number, for one too long to be put together first.</summary>
    private static void WriteFloatingPointByElement<T>(Utf8JsonWriter writer, T[] values, string kind, int index)
        where T : struct
    {
        writer.WriteStartArray();
        foreach (var element in values)
        {
            var value = element;
            if (typeof(T) == typeof(double))
            {
                var number = Unsafe.As<T, double>(ref value);
                EnsureRepresentable(double.IsFinite(number), kind, index);
                writer.WriteNumberValue(number);
            }
            else
            {
                var number = typeof(T) == typeof(Half) ? (float)Unsafe.As<T, Half>(ref value) : Unsafe.As<T, float>(ref value);
                EnsureRepresentable(float.IsFinite(number), kind, index);
                writer.WriteNumberValue(number);
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>JSON cannot carry NaN, infinities or non-UTF-8 strings: such a tensor must travel as binary data.</summary>
    private static void EnsureRepresentable(bool representable, string kind, int index)
    {
        if (!representable)
        {
            throw new RefusedException(new Refusal(
                RefusalKind.Failed,
                $"{kind} {index} holds a value JSON cannot represent (a non-finite number or non-UTF-8 bytes); request it as binary data"));
        }
    }

    private static EncodedBody Finish(ArrayBufferWriter<byte> json, IReadOnlyList<Tensor> tensors, bool[] binary)
    {
        long binaryLength = 0;
        for (var i = 0; i < tensors.Count; i++)
        {
            if (binary[i])
            {
                binaryLength += BinaryTensorCodec.EncodedLength(tensors[i]);
            }
        }

        if (Array.IndexOf(binary, true) < 0)
        {
            return new EncodedBody(json.WrittenSpan.ToArray(), null, EncodedBody.JsonContentType);
        }

        var headerLength = json.WrittenCount;
        var body = GC.AllocateUninitializedArray<byte>(checked((int)(headerLength + binaryLength)));
        json.WrittenSpan.CopyTo(body);
        var offset = headerLength;
        for (var i = 0; i < tensors.Count; i++)
        {
            if (binary[i])
            {
                offset += BinaryTensorCodec.Encode(tensors[i], body.AsSpan(offset));
            }
        }

        return new EncodedBody(body, headerLength, EncodedBody.BinaryContentType);
    }

    /// <summary>A first guess at the JSON header size, to spare most buffer growth.</summary>
    private static int EstimateJsonSize(IReadOnlyList<Tensor> tensors, bool[] binary)
    {
        long estimate = 256;
        for (var i = 0; i < tensors.Count; i++)
        {
            estimate += 128 + (binary[i] ? 0 : tensors[i].Data.Length * 12L);
        }

        return (int)Math.Min(estimate, 64 * 1024 * 1024);
    }
}
