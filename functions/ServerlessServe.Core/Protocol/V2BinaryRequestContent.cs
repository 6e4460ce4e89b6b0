using System.Buffers;
using System.Net;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// A V2 request with every input in the binary tensor extension, written straight to the connection: the JSON header,
/// then each input's bytes from the tensor's own array, through one pooled 64 KiB buffer. The body is never assembled
/// in a buffer of its own, so forwarding an image allocates nothing of its size (<see cref="V2Json.WriteRequest"/>
/// allocated the whole body, a large-object-heap array per request), with the same bytes. BYTES tensors, and every
/// tensor on a big-endian host, are encoded through a pooled buffer of their size. While it reads the tensors it holds
/// their lease (<see cref="TensorLease.HoldAll"/>): the client may still be writing when the request that sent it has
/// ended (a response that came early, a cancelled call), and pooled arrays must not go back while they are read.
/// </summary>
public sealed class V2BinaryRequestContent : HttpContent, ISegmentedContent
{
    private readonly ArrayBufferWriter<byte> _header;
    private readonly IReadOnlyList<Tensor> _inputs;
    private readonly long _length;
    private readonly bool _declareLength;

    /// <summary>The most of a tensor copied at a time (the only buffer a numeric tensor needs here).</summary>
    private const int ChunkBytes = 64 * 1024;

    /// <param name="request">The request whose inputs are sent, every one in the binary extension.</param>
    /// <param name="binaryOutputs">Whether the header asks for every output in the binary extension too.</param>
    /// <param name="declareLength">
    /// Whether the body's length goes in <c>Content-Length</c>. Without it, HTTP/1.1 sends the body chunked, which the
    /// Functions host passes to the worker as it arrives instead of reading it all first (docs/performance.md, "The
    /// Functions host reads every body with a length").
    /// </param>
    public V2BinaryRequestContent(InferenceRequest request, bool binaryOutputs, bool declareLength = true)
    {
        ArgumentNullException.ThrowIfNull(request);
        var binary = new bool[request.Inputs.Count];
        Array.Fill(binary, true);
        _header = V2BodyWriter.WriteRequestHeader(request, binary, binaryOutputs);
        _inputs = request.Inputs;
        _length = _header.WrittenCount + _inputs.Sum(BinaryTensorCodec.EncodedLength);
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(EncodedBody.BinaryContentType);
        _declareLength = declareLength;
        if (declareLength)
        {
            Headers.ContentLength = _length;
        }
    }

    /// <inheritdoc />
    public long Length => _length;

    /// <summary>The JSON header's length in bytes: the value of <see cref="EncodedBody.HeaderLengthHeaderName"/>.</summary>
    public int HeaderLength => _header.WrittenCount;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var holds = TensorLease.HoldAll(_inputs);
        await stream.WriteAsync(_header.WrittenMemory, cancellationToken).ConfigureAwait(false);
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        var used = 0;
        try
        {
            foreach (var tensor in _inputs)
            {
                if (tensor.DataType == TensorDataType.Bytes || !BitConverter.IsLittleEndian)
                {
                    await WriteEncodedAsync(stream, tensor, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                // The tensor's own bytes, a chunk at a time: the chunk is the only buffer, whatever the tensor's size.
                var length = checked(tensor.Data.Length * tensor.DataType.ElementSize());
                for (var offset = 0; offset < length; offset += ChunkBytes)
                {
                    var count = Math.Min(ChunkBytes, length - offset);
                    BinaryTensorCodec.NativeBytes(tensor.Data, tensor.DataType).Slice(offset, count).CopyTo(chunk);
                    used = Math.Max(used, count);
                    await stream.WriteAsync(chunk.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // Wiped before it goes back: no caller's bytes are left in a pooled buffer (docs/protocol.md); it held up to
            // a chunk of the last tensor (found in review 2026-12-07).
            chunk.AsSpan(0, used).Clear();
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <inheritdoc />
    public void VisitSegments<TState>(ReadOnlySpanAction<byte, TState> visit, TState state)
    {
        ArgumentNullException.ThrowIfNull(visit);
        using var holds = TensorLease.HoldAll(_inputs);
        visit(_header.WrittenSpan, state);
        foreach (var tensor in _inputs)
        {
            if (tensor.DataType != TensorDataType.Bytes && BitConverter.IsLittleEndian)
            {
                // The tensor's own bytes, as they go on the wire.
                visit(BinaryTensorCodec.NativeBytes(tensor.Data, tensor.DataType), state);
                continue;
            }

            var length = checked((int)BinaryTensorCodec.EncodedLength(tensor));
            var rented = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                visit(rented.AsSpan(0, BinaryTensorCodec.Encode(tensor, rented)), state);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    private static async Task WriteEncodedAsync(Stream stream, Tensor tensor, CancellationToken cancellationToken)
    {
        var length = checked((int)BinaryTensorCodec.EncodedLength(tensor));
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var written = BinaryTensorCodec.Encode(tensor, rented);
            await stream.WriteAsync(rented.AsMemory(0, written), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _declareLength ? _length : 0;
        return _declareLength;
    }
}
