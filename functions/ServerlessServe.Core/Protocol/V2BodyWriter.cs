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
    /// <summary>For tests and benchmarks, on this thread: write numeric data number by number, as before.</summary>
    [ThreadStatic]
    internal static bool NumbersByElement;

    /// <summary>The longest numeric array put together before it is written (the writer's raw values stop at 166 MB).</summary>
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

        // The JSON is written into pooled arrays and copied out once, into the body.
        using var buffer = new PooledByteWriter(EstimateJsonSize(outputs, binary));
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

        return Finish(buffer.WrittenSpan, outputs, binary);
    }

    public static EncodedBody WriteRequest(InferenceRequest request, bool binaryInputs, bool binaryOutputs)
    {
        var binary = new bool[request.Inputs.Count];
        Array.Fill(binary, binaryInputs);
        return Finish(WriteRequestHeader(request, binary, binaryOutputs).WrittenSpan, request.Inputs, binary);
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
        // Numeric arrays are written whole; BOOL and BYTES element by element. By datatype, not by runtime type: the
        // CLR lets an int[] pass as a uint[] (and sbyte[] as byte[], ...).
        switch (tensor.DataType)
        {
            case TensorDataType.UInt8:
                WriteNumbers(writer, (byte[])tensor.Data, kind, index);
                return;
            case TensorDataType.UInt16:
                WriteNumbers(writer, (ushort[])tensor.Data, kind, index);
                return;
            case TensorDataType.UInt32:
                WriteNumbers(writer, (uint[])tensor.Data, kind, index);
                return;
            case TensorDataType.UInt64:
                WriteNumbers(writer, (ulong[])tensor.Data, kind, index);
                return;
            case TensorDataType.Int8:
                WriteNumbers(writer, (sbyte[])tensor.Data, kind, index);
                return;
            case TensorDataType.Int16:
                WriteNumbers(writer, (short[])tensor.Data, kind, index);
                return;
            case TensorDataType.Int32:
                WriteNumbers(writer, (int[])tensor.Data, kind, index);
                return;
            case TensorDataType.Int64:
                WriteNumbers(writer, (long[])tensor.Data, kind, index);
                return;
            case TensorDataType.Fp16:
                WriteNumbers(writer, (Half[])tensor.Data, kind, index);
                return;
            case TensorDataType.Fp32:
                WriteNumbers(writer, (float[])tensor.Data, kind, index);
                return;
            case TensorDataType.Fp64:
                WriteNumbers(writer, (double[])tensor.Data, kind, index);
                return;
        }

        writer.WriteStartArray();
        switch (tensor.DataType)
        {
            case TensorDataType.Bool:
                foreach (var v in (bool[])tensor.Data)
                {
                    writer.WriteBooleanValue(v);
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
    /// A numeric tensor's data as one JSON array, in the bytes <see cref="Utf8JsonWriter"/> gives number by number (a
    /// half as the float it widens to), but formatted by <see cref="JsonNumberFormat"/> into a pooled buffer and handed
    /// to the writer whole: a float in less than half the time (docs/performance.md, "JSON numbers written").
    /// </summary>
    private static void WriteNumbers<T>(Utf8JsonWriter writer, T[] values, string kind, int index)
        where T : struct
    {
        var longest = typeof(T) == typeof(double) ? JsonNumberFormat.MaxDoubleLength
            : typeof(T) == typeof(long) || typeof(T) == typeof(ulong) ? JsonNumberFormat.MaxIntegerLength
            : JsonNumberFormat.MaxSingleLength;
        var size = 2 + ((long)values.Length * (longest + 1)) + JsonNumberFormat.Room;
        if (NumbersByElement || size > MaxRawArrayBytes)
        {
            WriteNumbersByElement(writer, values, kind, index);
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

                at += Format(values[k], buffer.AsSpan(at), kind, index);
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

    private static int Format<T>(T value, Span<byte> room, string kind, int index)
        where T : struct
    {
        if (typeof(T) == typeof(double))
        {
            var number = Unsafe.As<T, double>(ref value);
            EnsureRepresentable(double.IsFinite(number), kind, index);
            return JsonNumberFormat.FormatDouble(number, room);
        }

        if (typeof(T) == typeof(float) || typeof(T) == typeof(Half))
        {
            var number = typeof(T) == typeof(Half) ? (float)Unsafe.As<T, Half>(ref value) : Unsafe.As<T, float>(ref value);
            EnsureRepresentable(float.IsFinite(number), kind, index);
            return JsonNumberFormat.FormatSingle(number, room);
        }

        if (typeof(T) == typeof(byte) || typeof(T) == typeof(ushort) || typeof(T) == typeof(uint) || typeof(T) == typeof(ulong))
        {
            return JsonNumberFormat.FormatInteger(false, Unsigned(value), room);
        }

        var signed = Signed(value);
        return JsonNumberFormat.FormatInteger(signed < 0, signed < 0 ? (ulong)-(signed + 1) + 1 : (ulong)signed, room);
    }

    private static ulong Unsigned<T>(T value)
        where T : struct =>
        typeof(T) == typeof(byte) ? Unsafe.As<T, byte>(ref value)
        : typeof(T) == typeof(ushort) ? Unsafe.As<T, ushort>(ref value)
        : typeof(T) == typeof(uint) ? Unsafe.As<T, uint>(ref value)
        : Unsafe.As<T, ulong>(ref value);

    private static long Signed<T>(T value)
        where T : struct =>
        typeof(T) == typeof(sbyte) ? Unsafe.As<T, sbyte>(ref value)
        : typeof(T) == typeof(short) ? Unsafe.As<T, short>(ref value)
        : typeof(T) == typeof(int) ? Unsafe.As<T, int>(ref value)
        : Unsafe.As<T, long>(ref value);

    /// <summary>The same array number by number, for one too long to be put together first.</summary>
    private static void WriteNumbersByElement<T>(Utf8JsonWriter writer, T[] values, string kind, int index)
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
            else if (typeof(T) == typeof(float) || typeof(T) == typeof(Half))
            {
                var number = typeof(T) == typeof(Half) ? (float)Unsafe.As<T, Half>(ref value) : Unsafe.As<T, float>(ref value);
                EnsureRepresentable(float.IsFinite(number), kind, index);
                writer.WriteNumberValue(number);
            }
            else if (typeof(T) == typeof(byte) || typeof(T) == typeof(ushort) || typeof(T) == typeof(uint) || typeof(T) == typeof(ulong))
            {
                writer.WriteNumberValue(Unsigned(value));
            }
            else
            {
                writer.WriteNumberValue(Signed(value));
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

    private static EncodedBody Finish(ReadOnlySpan<byte> json, IReadOnlyList<Tensor> tensors, bool[] binary)
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
            var document = GC.AllocateUninitializedArray<byte>(json.Length);
            json.CopyTo(document);
            return new EncodedBody(document, null, EncodedBody.JsonContentType);
        }

        var headerLength = json.Length;
        var body = GC.AllocateUninitializedArray<byte>(checked((int)(headerLength + binaryLength)));
        json.CopyTo(body);
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
