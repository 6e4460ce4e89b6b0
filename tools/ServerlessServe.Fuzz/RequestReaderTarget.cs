using System.Runtime.InteropServices;
using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Fuzz;

/// <summary>
/// The fuzz target: one input is a request body as the read stage sees it. The first byte chooses the form — even: a
/// JSON body; odd: the binary tensor extension, with the next two bytes (little-endian) as
/// <c>Inference-Header-Content-Length</c> — and the rest is the body. A refusal is the expected outcome for bad input;
/// any other exception is a finding, and so is a body whose outcome differs when its numbers are read token by token
/// instead of from the bytes. A body that reads is then written back as a JSON response, whole arrays and number by
/// number: a different outcome is a finding, and so is a response that does not read back as the same tensors. A binary
/// body is also read as each app reads it, and must give the same outcome, refusal included: from buffers of a few bytes
/// (the gateway, which keeps the body in the buffers it arrived in) and from a stream that returns a few bytes a read,
/// with and without a declared length (the inference app, which reads each tensor from the connection). The first byte's
/// other seven bits choose those pieces' size, 1 to 128 bytes. And a body that reads is sent on as the gateway sends it
/// (every input in the binary extension, written from the tensors) and read as the inference app reads it: the same id,
/// tensors and requested outputs must arrive.
/// </summary>
public static class RequestReaderTarget
{
    private static readonly ProtocolLimits Limits = new() { MaxBodyBytes = 1024 * 1024, MaxElementsPerRequest = 65_536 };

    // Written as JSON, a tensor read from a 1 MB binary body can take up to 25 bytes an element.
    private static readonly ProtocolLimits ResponseLimits = new() { MaxBodyBytes = 32 * 1024 * 1024, MaxElementsPerRequest = 65_536 };

    /// <summary>Runs one input; throws only on a finding.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        int? headerLength = null;
        var body = input[1..];
        if ((input[0] & 1) == 1 && body.Length >= 2)
        {
            headerLength = body[0] | (body[1] << 8);
            body = body[2..];
        }

        // Numbers are read from the bytes where they can be; token by token the outcome must be the same.
        var fromBytes = Read(body, headerLength, tokenByToken: false, out var request);
        var byToken = Read(body, headerLength, tokenByToken: true, out _);
        if (!string.Equals(fromBytes, byToken, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("numbers read from the bytes give another outcome than token by token");
        }

        if (headerLength is { } header)
        {
            // The gateway reads a binary body from the buffers it arrived in, the inference app from the connection as it
            // arrives: a body either app reads must read the same in the other, or a request the gateway checked could
            // mean something else where it runs. The first byte's other bits choose the pieces' size (1 to 128 bytes).
            var piece = (input[0] >> 1) + 1;
            Same(fromBytes, ReadSegmented(body, header, piece), "read from buffers of " + piece + " bytes");
            var copy = body.ToArray();
            Same(fromBytes, ReadStreamed(copy, header, piece, declared: true), "read as it arrives, " + piece + " bytes at a time, with its length");
            Same(fromBytes, ReadStreamed(copy, header, piece, declared: false), "read as it arrives, " + piece + " bytes at a time, chunked");
        }

        if (request is not null)
        {
            Forward(request, fromBytes);
            WriteBack(request, fromBytes);
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> on as the gateway does (every input in the binary extension, written from the
    /// tensors) and reads that as the inference app does (from the connection): the same id, tensors and requested
    /// outputs must arrive (<paramref name="read"/>, the gateway's reading).
    /// </summary>
    private static void Forward(InferenceRequest request, string read)
    {
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true, declareLength: false);
        var body = content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
        InferenceRequest? arrived = null;
        var outcome = Outcome(() =>
        {
            using var stream = new Pieces(body, 4096);
            return arrived = V2Json.ReadRequestAsync(stream, null, content.HeaderLength, ResponseLimits, null, CancellationToken.None).GetAwaiter().GetResult();
        });
        Same(read, outcome, "forwarded by the gateway, as the inference app reads it,");
        var asked = string.Join(',', request.Outputs?.Select(o => o.Name) ?? []);
        var received = string.Join(',', arrived!.Outputs?.Select(o => o.Name) ?? []);
        if (!string.Equals(asked, received, StringComparison.Ordinal) || (arrived.Outputs ?? []).Any(o => !arrived.IsBinaryOutputRequested(o.Name)))
        {
            throw new InvalidOperationException($"the forwarded request asks for other outputs: {received} against {asked}");
        }
    }

    private static void Same(string expected, string actual, string how)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"a binary body {how} gives another outcome than read whole: {Shorten(actual)} against {Shorten(expected)}");
        }

        static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";
    }

    private static string ReadSegmented(ReadOnlySpan<byte> body, int headerLength, int piece)
    {
        var sequence = Pieces.Sequence(body, piece);
        return Outcome(() => V2Json.ReadRequest(sequence, headerLength, Limits, null));
    }

    private static string ReadStreamed(byte[] body, int headerLength, int piece, bool declared) =>
        Outcome(() =>
        {
            using var stream = new Pieces(body, piece);
            return V2Json.ReadRequestAsync(stream, declared ? body.Length : null, headerLength, Limits, null, CancellationToken.None).GetAwaiter().GetResult();
        });

    internal static string Outcome(Func<InferenceRequest> read)
    {
        try
        {
            var request = read();
            return Describe(request.Inputs, request.Id);
        }
        catch (RefusedException refused)
        {
            return $"refused {refused.Kind}: {refused.Message}";
        }
    }

    /// <summary>
    /// Writes <paramref name="request"/>'s inputs back as a JSON response's outputs, both ways; a JSON response must read
    /// back as the tensors it was written from (<paramref name="read"/>, their description).
    /// </summary>
    private static void WriteBack(InferenceRequest request, string read)
    {
        var response = new InferenceResponse { ModelName = "m", Id = request.Id, Outputs = request.Inputs };
        var whole = Write(response, byElement: false, out var body);
        var byElement = Write(response, byElement: true, out _);
        if (!string.Equals(whole, byElement, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("numbers written as whole arrays give another response than number by number");
        }

        if (body is not null && !string.Equals(Describe(V2Json.ReadResponse(body, null, ResponseLimits).Outputs, request.Id), read, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("a JSON response does not read back as the tensors it was written from");
        }
    }

    private static string Write(InferenceResponse response, bool byElement, out byte[]? body)
    {
        V2BodyWriter.NumbersByElement = byElement;
        try
        {
            body = V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null).Body;
            return Encoding.UTF8.GetString(body);
        }
        catch (RefusedException refused)
        {
            // A value JSON cannot carry (NaN, an infinity, non-UTF-8 BYTES): the expected answer.
            body = null;
            return $"refused {refused.Kind}: {refused.Message}";
        }
        finally
        {
            V2BodyWriter.NumbersByElement = false;
        }
    }

    /// <summary>The outcome of one read, as text: every tensor's name, datatype, shape and bytes, or the refusal.</summary>
    private static string Read(ReadOnlySpan<byte> body, int? headerLength, bool tokenByToken, out InferenceRequest? request)
    {
        V2BodyReader.NumbersTokenByToken = tokenByToken;
        try
        {
            request = V2Json.ReadRequest(body, headerLength, Limits);
            return Describe(request.Inputs, request.Id);
        }
        catch (RefusedException refused)
        {
            request = null;
            // The reader's own refusal (400 or 413 at the edge): the expected answer to bad input.
            return $"refused {refused.Kind}: {refused.Message}";
        }
        finally
        {
            V2BodyReader.NumbersTokenByToken = false;
        }
    }

    /// <summary>Every tensor's name, datatype, shape and bytes, as text.</summary>
    internal static string Describe(IReadOnlyList<Tensor> tensors, string? id)
    {
        var text = new StringBuilder(id);
        foreach (var tensor in tensors)
        {
            text.Append('|').Append(tensor.Name).Append(' ').Append(tensor.DataType).Append(' ').AppendJoin(',', tensor.Shape).Append(' ')
                .Append(tensor.Data switch
                {
                    byte[][] elements => string.Join(',', elements.Select(Convert.ToHexString)),
                    Half[] halves => Convert.ToHexString(MemoryMarshal.AsBytes(halves.AsSpan())),
                    var data => Convert.ToHexString(Bytes(data)),
                });
        }

        return text.ToString();

        static byte[] Bytes(Array data)
        {
            var bytes = new byte[Buffer.ByteLength(data)];
            Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
            return bytes;
        }
    }
}

/// <summary>A body in pieces of at most a given size: as a stream that returns at most that much per read, or as buffers.</summary>
internal sealed class Pieces(byte[] body, int piece) : Stream
{
    private int _position;

    /// <summary><paramref name="body"/> as a sequence of buffers of <paramref name="piece"/> bytes (the last may be shorter).</summary>
    public static System.Buffers.ReadOnlySequence<byte> Sequence(ReadOnlySpan<byte> body, int piece)
    {
        if (body.Length <= piece)
        {
            return new System.Buffers.ReadOnlySequence<byte>(body.ToArray());
        }

        Segment? first = null;
        Segment? last = null;
        for (var start = 0; start < body.Length; start += piece)
        {
            var memory = body.Slice(start, Math.Min(piece, body.Length - start)).ToArray();
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
        }

        return new System.Buffers.ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = Math.Min(Math.Min(buffer.Length, piece), body.Length - _position);
        body.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private sealed class Segment : System.Buffers.ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
