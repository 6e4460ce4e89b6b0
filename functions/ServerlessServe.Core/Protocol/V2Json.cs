using System.Buffers;
using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Reads and writes Open Inference Protocol (KServe V2) bodies, JSON and the binary tensor data extension.
/// Readers are strict (see <see cref="ReadRequest(ReadOnlySpan{byte}, int?, ProtocolLimits)"/>) and throw <see cref="RefusedException"/> with messages that
/// are safe to return: they name positions (<c>inputs[1]</c>, 0-based) and our own vocabulary, never anything
/// the sender wrote.
/// </summary>
public static class V2Json
{
    /// <summary>
    /// Reads a V2 inference request. <paramref name="inferenceHeaderLength"/> is the
    /// <c>Inference-Header-Content-Length</c> header: when present the body is that many bytes of JSON followed by
    /// the raw data of every input that has <c>parameters.binary_data_size</c>, in input order.
    /// </summary>
    /// <remarks>
    /// Refused as invalid: invalid JSON (NaN/Infinity literals included), nesting deeper than
    /// <see cref="ProtocolLimits.MaxJsonDepth"/>, duplicate or unknown properties at any level, parameters other
    /// than <c>binary_data_output</c> / <c>binary_data_size</c> / <c>binary_data</c>, numbers the datatype cannot
    /// hold, data whose count or nesting does not match the shape, duplicate tensor names, binary sizes that do not
    /// add up. Refused as too large: a body over <see cref="ProtocolLimits.MaxBodyBytes"/> or more than
    /// <see cref="ProtocolLimits.MaxElementsPerRequest"/> elements.
    /// </remarks>
    public static InferenceRequest ReadRequest(ReadOnlySpan<byte> body, int? inferenceHeaderLength, ProtocolLimits limits) =>
        V2BodyReader.ReadRequest(body, inferenceHeaderLength, limits);

    /// <summary>
    /// As <see cref="ReadRequest(ReadOnlySpan{byte}, int?, ProtocolLimits)"/>, with the numeric tensors in arrays
    /// rented from <paramref name="lease"/> (large ones from its pool); each tensor names the lease.
    /// </summary>
    public static InferenceRequest ReadRequest(ReadOnlySpan<byte> body, int? inferenceHeaderLength, ProtocolLimits limits, TensorLease? lease) =>
        V2BodyReader.ReadRequest(body, inferenceHeaderLength, limits, lease);

    /// <summary>
    /// As <see cref="ReadRequest(ReadOnlySpan{byte}, int?, ProtocolLimits, TensorLease?)"/> for a body in the binary tensor
    /// extension (<paramref name="inferenceHeaderLength"/> given), read from <paramref name="body"/> as it arrives: each
    /// binary tensor goes straight into its own array, with no buffer of the body's size. A tensor's array is allocated
    /// at its declared size before its bytes arrive, so use it only where the sender was authenticated before the body
    /// is read (the inference app, whose caller is the gateway); the body's digest is not kept.
    /// </summary>
    /// <param name="body">The body stream, read once, to its end.</param>
    /// <param name="contentLength">The declared <c>Content-Length</c>, or null (chunked).</param>
    /// <param name="inferenceHeaderLength">The JSON header's length (<c>Inference-Header-Content-Length</c>).</param>
    /// <param name="limits">The protocol's caps; the body's is applied to the declared sizes before anything is allocated for them.</param>
    /// <param name="lease">The lease to rent numeric tensors' arrays from, or null.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static Task<InferenceRequest> ReadRequestAsync(
        Stream body, long? contentLength, int inferenceHeaderLength, ProtocolLimits limits, TensorLease? lease, CancellationToken cancellationToken) =>
        V2BodyReader.ReadRequestAsync(body, contentLength, inferenceHeaderLength, limits, lease, cancellationToken);

    /// <summary>
    /// As <see cref="ReadRequest(ReadOnlySpan{byte}, int?, ProtocolLimits, TensorLease?)"/> for a body in the binary tensor
    /// extension received whole into several buffers (<see cref="HttpBodyReader.ReadSegmentsAsync"/>): each binary
    /// tensor is copied from those buffers into its own array, and the body is never put together. Same request, same
    /// refusals, as over the joined bytes.
    /// </summary>
    public static InferenceRequest ReadRequest(ReadOnlySequence<byte> body, int inferenceHeaderLength, ProtocolLimits limits, TensorLease? lease) =>
        V2BodyReader.ReadRequest(body, inferenceHeaderLength, limits, lease);

    /// <summary>
    /// Reads a V2 inference response (JSON, or JSON header plus binary outputs), as strictly as a request, except
    /// that top-level <c>parameters</c> may hold any scalar values.
    /// </summary>
    public static InferenceResponse ReadResponse(ReadOnlySpan<byte> body, int? inferenceHeaderLength, ProtocolLimits limits) =>
        V2BodyReader.ReadResponse(body, inferenceHeaderLength, limits);

    /// <summary>
    /// Writes a response. An output goes in the binary section when <paramref name="binaryAll"/> is true or
    /// <paramref name="binaryOutputs"/> holds its name; when any does, the result has a header length and
    /// <c>application/octet-stream</c>, otherwise it is plain <c>application/json</c>.
    /// </summary>
    /// <exception cref="RefusedException">Failed when a JSON output holds NaN, an infinity or non-UTF-8 BYTES.</exception>
    public static EncodedBody WriteResponse(InferenceResponse response, bool binaryAll, IReadOnlySet<string>? binaryOutputs)
    {
        ArgumentNullException.ThrowIfNull(response);
        return V2BodyWriter.WriteResponse(response, tensor => binaryAll || (binaryOutputs?.Contains(tensor.Name) ?? false));
    }

    /// <summary>
    /// Writes a response in the form <paramref name="request"/> asked for: an output's own <c>binary_data</c>
    /// when the request names it with one, otherwise the request's <c>binary_data_output</c>.
    /// </summary>
    public static EncodedBody WriteResponse(InferenceResponse response, InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(request);
        return V2BodyWriter.WriteResponse(response, tensor => request.IsBinaryOutputRequested(tensor.Name));
    }

    /// <summary>
    /// Writes a request (the gateway's call to the inference app). <paramref name="binaryInputs"/> sends every input
    /// in the binary section; <paramref name="binaryOutputs"/> sets <c>binary_data_output</c> so every output comes
    /// back binary (the request's own output flags are not forwarded).
    /// </summary>
    public static EncodedBody WriteRequest(InferenceRequest request, bool binaryInputs, bool binaryOutputs)
    {
        ArgumentNullException.ThrowIfNull(request);
        return V2BodyWriter.WriteRequest(request, binaryInputs, binaryOutputs);
    }

    /// <summary><c>{"error":"..."}</c>. The message must already be safe to show a caller.</summary>
    public static byte[] WriteError(string safeMessage)
    {
        ArgumentNullException.ThrowIfNull(safeMessage);
        return V2BodyWriter.WriteDocument(safeMessage, static (w, message) =>
        {
            w.WriteStartObject();
            w.WriteString("error"u8, message);
            w.WriteEndObject();
        });
    }

    /// <summary>V2 model metadata: <c>name</c>, <c>versions</c>, <c>platform</c>, <c>inputs</c> and <c>outputs</c> (each <c>name</c>, <c>datatype</c>, <c>shape</c>; -1 dynamic).</summary>
    public static byte[] WriteModelMetadata(ModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return V2BodyWriter.WriteDocument(metadata, static (w, m) =>
        {
            w.WriteStartObject();
            w.WriteString("name"u8, m.Name);
            WriteStrings(w, "versions"u8, m.Versions);
            w.WriteString("platform"u8, m.Platform);
            WriteSpecs(w, "inputs"u8, m.Inputs);
            WriteSpecs(w, "outputs"u8, m.Outputs);
            w.WriteEndObject();
        });
    }

    /// <summary>V2 server metadata: <c>name</c>, <c>version</c>, <c>extensions</c>.</summary>
    public static byte[] WriteServerMetadata(ServerMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return V2BodyWriter.WriteDocument(metadata, static (w, m) =>
        {
            w.WriteStartObject();
            w.WriteString("name"u8, m.Name);
            w.WriteString("version"u8, m.Version);
            WriteStrings(w, "extensions"u8, m.Extensions);
            w.WriteEndObject();
        });
    }

    private static void WriteStrings(Utf8JsonWriter writer, ReadOnlySpan<byte> property, IReadOnlyList<string> values)
    {
        writer.WriteStartArray(property);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static void WriteSpecs(Utf8JsonWriter writer, ReadOnlySpan<byte> property, IReadOnlyList<TensorSpec> specs)
    {
        writer.WriteStartArray(property);
        foreach (var spec in specs)
        {
            writer.WriteStartObject();
            TensorHeaderJson.Write(writer, spec.Name, spec.DataType, spec.Shape);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
