using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

internal sealed partial class V2BodyReader
{
    /// <summary>The most a streamed read holds of the body at a time, besides the JSON header and the tensors themselves.</summary>
    internal const int StagingBytes = 128 * 1024;

    /// <summary>
    /// Reads a request in the binary tensor extension straight from <paramref name="body"/>: the JSON header first, then
    /// each binary tensor's bytes into its own array (rented from <paramref name="lease"/> when given), in input order,
    /// through one small staging buffer. No buffer of the body's size exists, and each tensor byte is copied once after
    /// the stream hands it over. Refuses what <see cref="ReadRequest(ReadOnlySpan{byte}, int?, ProtocolLimits, TensorLease?)"/>
    /// refuses, with the same status and message, in the same order. A tensor whose size overruns <paramref name="contentLength"/> is refused before its array is allocated.
    /// One refusal comes sooner: a chunked body whose header and sizes total more than <see cref="ProtocolLimits.MaxBodyBytes"/> is
    /// refused as too large at once, where a buffered read would read it first (and, were it shorter, refuse it: 400).
    /// </summary>
    /// <remarks>
    /// A tensor's array is allocated at its declared size before its bytes arrive (capped by the body limit), so memory
    /// follows what the header declares rather than what has arrived: for a sender whose requests are authenticated
    /// before the body is read (the inference app, whose only caller is the gateway), not for an untrusted one.
    /// </remarks>
    public static async Task<InferenceRequest> ReadRequestAsync(
        Stream body, long? contentLength, int headerLength, ProtocolLimits limits, TensorLease? lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(limits);
        if (contentLength < 0)
        {
            throw RefusedException.Invalid("invalid Content-Length");
        }

        // A header length past a declared Content-Length is the 400 the buffered reader gives it (checked next), not
        // too large: only without a declared length does the header length alone pass the limit.
        if (contentLength > limits.MaxBodyBytes || (contentLength is null && headerLength > limits.MaxBodyBytes))
        {
            throw TooLarge(limits);
        }

        using var source = new StagedBody(body, contentLength, cancellationToken);
        return await ReadRequestAsync(source, contentLength, headerLength, limits, lease).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a request in the binary tensor extension from a body already received whole in several buffers
    /// (<see cref="ReceivedBody"/>): each binary tensor is copied from them straight into its own array, so the body is
    /// never put together. Refuses what <see cref="ReadRequest(ReadOnlySpan{byte}, int?, ProtocolLimits, TensorLease?)"/>
    /// refuses over the same bytes, with the same status and message (a body in one buffer is read by it).
    /// </summary>
    public static InferenceRequest ReadRequest(ReadOnlySequence<byte> body, int headerLength, ProtocolLimits limits, TensorLease? lease)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (body.IsSingleSegment)
        {
            return ReadRequest(body.FirstSpan, headerLength, limits, lease);
        }

        if (body.Length > limits.MaxBodyBytes)
        {
            throw TooLarge(limits);
        }

        // Every byte is here: each step below completes at once, and the request is ready when the call returns.
        using var source = new StagedBody(body);
        var read = ReadRequestAsync(source, body.Length, headerLength, limits, lease);
        return read.IsCompleted ? read.Result : read.AsTask().GetAwaiter().GetResult();
    }

    private static async ValueTask<InferenceRequest> ReadRequestAsync(StagedBody source, long? contentLength, int headerLength, ProtocolLimits limits, TensorLease? lease)
    {
        var state = new V2BodyReader(limits, BodyLocation.Request, lease);
        if (headerLength < 0 || headerLength > contentLength)
        {
            throw state._root.Error($"{EncodedBody.HeaderLengthHeaderName} is negative or larger than the body");
        }

        RequestParts parts;
        var header = ArrayPool<byte>.Shared.Rent(Math.Max(headerLength, 1));
        try
        {
            if (!await source.FillAsync(header, 0, headerLength).ConfigureAwait(false))
            {
                throw contentLength.HasValue
                    ? ShorterThanDeclared()
                    : state._root.Error($"{EncodedBody.HeaderLengthHeaderName} is negative or larger than the body");
            }

            parts = state.ParseRequestHeader(header.AsSpan(0, headerLength));
        }
        finally
        {
            HttpBodyReader.Return(header, headerLength);
        }

        var binaryLength = contentLength - headerLength;
        return parts.With(await state.ReceiveAsync(parts.Inputs, source, headerLength, binaryLength).ConfigureAwait(false));
    }

    private RequestParts ParseRequestHeader(ReadOnlySpan<byte> json)
    {
        _jsonLength = json.Length;
        var reader = CreateReader(json);
        try
        {
            return ParseRequestParts(ref reader);
        }
        catch (JsonException)
        {
            throw RefusedException.Invalid("request body is not valid JSON");
        }
    }

    /// <summary>
    /// Reads each binary tensor of <paramref name="headers"/> from <paramref name="source"/> into its own array, in order,
    /// then the end of the body, refusing in the order a buffered read does. A tensor whose size overruns the declared
    /// binary section is refused before its array is allocated; a chunked body's sizes, which nothing else bounds, are
    /// held to the body limit before any is.
    /// </summary>
    private async Task<Tensor[]> ReceiveAsync(List<TensorHeader> headers, StagedBody source, int headerLength, long? binaryLength)
    {
        EnsureUniqueNames(headers);
        if (binaryLength is null)
        {
            EnsureWithinLimit(headers, headerLength);
        }

        // The arrays below are made before their bytes arrive: a body that counts what it holds counts them now, and may
        // refuse them before any is made (review 2026-12-08: a burst of requests each made its array first, past the
        // inference app's bytes in flight).
        long binaryTotal = 0;
        foreach (var header in headers)
        {
            binaryTotal += header.BinarySize ?? 0;
        }

        // Never more than a declared binary section holds: sizes past it are refused below, tensor by tensor, as the
        // buffered reader refuses them (a chunked body's total was held to the body limit above).
        source.Prepay(binaryLength is { } section ? Math.Min(binaryTotal, section) : binaryTotal);
        var tensors = new Tensor[headers.Count];
        long received = 0;
        for (var i = 0; i < headers.Count; i++)
        {
            var header = headers[i];
            var data = header.Data;
            if (header.BinarySize is { } size)
            {
                if (size > binaryLength - received)
                {
                    throw header.Where.Error("binary data is shorter than binary_data_size");
                }

                data = await ReceiveTensorAsync(header, size, source).ConfigureAwait(false);
                received += size;
            }

            tensors[i] = ToTensor(header, data!);
        }

        if (!await source.AtEndAsync().ConfigureAwait(false))
        {
            // Within a declared length (all a server hands over), bytes after the tensors are the binary section's.
            throw received == binaryLength
                ? RefusedException.Invalid("request body is longer than its Content-Length")
                : _root.Error("binary section is longer than the tensors' binary_data_size total");
        }

        // The body ended right after the last tensor, short of its declared length: refused as the buffered reader
        // refuses it (a server hands over no less than the length it declared; a stream of another source may).
        if (binaryLength is { } declared && received < declared)
        {
            throw ShorterThanDeclared();
        }

        return tensors;
    }

    /// <summary>Refuses as too large, before anything is allocated for them, binary sizes whose total passes the body limit.</summary>
    private void EnsureWithinLimit(List<TensorHeader> headers, int headerLength)
    {
        long total = headerLength;
        foreach (var header in headers)
        {
            total += header.BinarySize ?? 0;
        }

        if (total > _limits.MaxBodyBytes)
        {
            throw TooLarge(_limits);
        }
    }

    private async Task<Array> ReceiveTensorAsync(TensorHeader header, int size, StagedBody source)
    {
        if (header.DataType == TensorDataType.Bytes)
        {
            // Length-prefixed elements: the tensor's bytes are gathered, then split into their own arrays.
            var gathered = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
            try
            {
                if (!await source.FillAsync(gathered, 0, size).ConfigureAwait(false))
                {
                    throw EndedEarly(header, source);
                }

                return BinaryTensorCodec.Decode(gathered.AsSpan(0, size), header.DataType, header.Count, _limits.MaxBytesElementLength, header.Where, lease: null);
            }
            finally
            {
                HttpBodyReader.Return(gathered, size);
            }
        }

        if (size != (long)header.Count * header.DataType.ElementSize())
        {
            // A buffered read finds a chunked body that ends inside these bytes short first: so does this one, without
            // allocating for them (their total is within the body limit).
            if (!source.Declared && !await source.SkipAsync(size).ConfigureAwait(false))
            {
                throw EndedEarly(header, source);
            }

            throw header.Where.Error("binary data size does not match shape and datatype");
        }

        var data = _lease is null ? BinaryTensorCodec.AllocateUninitialized(header.DataType, header.Count) : _lease.Rent(header.DataType, header.Count);
        if (!await source.FillAsync(data, 0, size).ConfigureAwait(false))
        {
            throw EndedEarly(header, source);
        }

        BinaryTensorCodec.Received(data, header.DataType, size, header.Where);
        return data;
    }

    private static RefusedException EndedEarly(TensorHeader header, StagedBody source) =>
        source.Declared ? ShorterThanDeclared() : header.Where.Error("binary data is shorter than binary_data_size");

    private static RefusedException ShorterThanDeclared() => RefusedException.Invalid("request body is shorter than its Content-Length");

    private static RefusedException TooLarge(ProtocolLimits limits) => RefusedException.TooLarge($"request body exceeds {limits.MaxBodyBytes} bytes");

    /// <summary>A request's parts as its JSON gives them: the inputs as headers, until their binary data is in.</summary>
    private sealed record RequestParts(string? Id, Dictionary<string, ParameterValue>? Parameters, List<TensorHeader> Inputs, List<RequestedOutput>? Outputs)
    {
        public InferenceRequest With(Tensor[] inputs) => new()
        {
            Id = Id,
            Parameters = Parameters ?? [],
            Inputs = inputs,
            Outputs = Outputs,
        };
    }

    /// <summary>
    /// A body taken in order: from a stream through one pooled staging buffer (each read asks the stream for as much as
    /// the buffer holds, and what a target does not take waits for the next one; the buffer is wiped when it goes back to
    /// the pool), or from a body already in memory, one of its buffers at a time, with nothing staged.
    /// </summary>
    private sealed class StagedBody : IDisposable
    {
        private readonly Stream? _stream;
        private readonly CancellationToken _cancellationToken;
        private ReadOnlySequence<byte>.Enumerator _received;
        private byte[]? _staging;
        private ReadOnlyMemory<byte> _window;
        private int _start;
        private int _used;

        public StagedBody(Stream stream, long? contentLength, CancellationToken cancellationToken)
        {
            _stream = stream;
            _cancellationToken = cancellationToken;
            _staging = ArrayPool<byte>.Shared.Rent((int)Math.Clamp((contentLength ?? StagingBytes) + 1, 1, StagingBytes));
            Declared = contentLength.HasValue;
        }

        public StagedBody(ReadOnlySequence<byte> received)
        {
            _received = received.GetEnumerator();
            Declared = true;
        }

        /// <summary>Whether the body declared its length (a body in memory has one).</summary>
        public bool Declared { get; }

        /// <summary>Tells a body that counts what it holds (<see cref="IPrepaidBody"/>) the bytes about to be held for what is still to arrive.</summary>
        public void Prepay(long bytes)
        {
            // What the staging buffer already took from the stream has been counted as it arrived.
            var ahead = bytes - (_window.Length - _start);
            if (ahead > 0 && _stream is IPrepaidBody prepaid)
            {
                prepaid.Prepay(ahead);
            }
        }

        /// <summary>Copies the next <paramref name="count"/> bytes of the body into <paramref name="destination"/>'s data from byte <paramref name="offset"/>; false when the body ends first.</summary>
        public ValueTask<bool> FillAsync(Array destination, int offset, int count) => TakeAsync(destination, offset, count);

        /// <summary>Passes over the next <paramref name="count"/> bytes of the body; false when the body ends first.</summary>
        public ValueTask<bool> SkipAsync(int count) => TakeAsync(null, 0, count);

        /// <summary>Whether the body has ended with nothing left over.</summary>
        public async ValueTask<bool> AtEndAsync() => _start == _window.Length && !await ReadAsync().ConfigureAwait(false);

        public void Dispose()
        {
            _window = default;
            if (Interlocked.Exchange(ref _staging, null) is { } staging)
            {
                HttpBodyReader.Return(staging, _used);
            }
        }

        private async ValueTask<bool> TakeAsync(Array? destination, int offset, int count)
        {
            while (count > 0)
            {
                if (_start == _window.Length && !await ReadAsync().ConfigureAwait(false))
                {
                    return false;
                }

                var taken = Math.Min(count, _window.Length - _start);
                if (destination is not null)
                {
                    Copy(_window.Span.Slice(_start, taken), destination, offset);
                    offset += taken;
                }

                _start += taken;
                count -= taken;
            }

            return true;
        }

        private async ValueTask<bool> ReadAsync()
        {
            _start = 0;
            if (_stream is null)
            {
                while (_received.MoveNext())
                {
                    if (!_received.Current.IsEmpty)
                    {
                        _window = _received.Current;
                        return true;
                    }
                }

                _window = default;
                return false;
            }

            var staging = _staging ?? throw new ObjectDisposedException(nameof(StagedBody));
            var read = await _stream.ReadAsync(staging, _cancellationToken).ConfigureAwait(false);
            _window = staging.AsMemory(0, read);
            _used = Math.Max(_used, read);
            return read > 0;
        }

        private static void Copy(ReadOnlySpan<byte> source, Array destination, int offset) =>
            source.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(destination), offset + source.Length)[offset..]);
    }
}
