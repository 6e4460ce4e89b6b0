using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// The gateway's request to the inference app, written from the tensors' own arrays: byte for byte what
/// <see cref="V2Json.WriteRequest"/> assembles, without a buffer the size of the body.
/// </summary>
public class V2BinaryRequestContentTests
{
    public static TheoryData<TensorDataType> AllTypes => [.. SampleTensors.AllTypes];

    [Theory]
    [MemberData(nameof(AllTypes))]
    public async Task EachDatatype_SameBytesAsTheAssembledBody(TensorDataType type)
    {
        var request = new InferenceRequest { Inputs = [SampleTensors.For(type)] };

        await AssertSameAsAssembledAsync(request);
    }

    [Fact]
    public async Task EveryDatatypeAtOnce_WithIdParametersOutputsAndAnImageAcrossChunks_SameBytes_AgainOnASecondSend()
    {
        // 1x3x224x224 FP32 plus one: 602,116 bytes, not a multiple of the 64 KiB chunk.
        var image = new float[(3 * 224 * 224) + 1];
        for (var i = 0; i < image.Length; i++)
        {
            image[i] = (i % 255) / 255f;
        }

        var request = new InferenceRequest
        {
            Id = "req-1",
            Parameters = new Dictionary<string, ParameterValue> { ["priority"] = ParameterValue.FromInt64(2), ["tag"] = ParameterValue.FromString("a \"b\"") },
            Inputs = [.. SampleTensors.AllTypes.Select(t => SampleTensors.For(t, "in_" + t)), new Tensor("image", TensorDataType.Fp32, [1, image.Length], image)],
            Outputs = [new RequestedOutput("probabilities")],
        };

        var content = await AssertSameAsAssembledAsync(request);

        // A retry sends the same content again: it is written again, whole and the same.
        Assert.Equal(V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: true).Body, await WrittenAsync(content));
    }

    /// <summary>
    /// The chunk buffer goes back to the shared pool wiped: no caller's bytes are left in a pooled buffer. Written to a
    /// memory stream the send completes on this thread, so the next rent of that size here gets the same array back
    /// from the pool's per-thread cache; before the fix it held the last 64 KiB of the tensor.
    /// </summary>
    [Fact]
    public void ChunkBuffer_ReturnedWiped()
    {
        var secret = new byte[64 * 1024];
        for (var i = 0; i < secret.Length; i++)
        {
            secret[i] = (byte)(((i * 31) + 7) % 251);
        }

        var request = new InferenceRequest { Inputs = [new Tensor("x", TensorDataType.UInt8, [secret.Length], secret)] };
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true);
        using var stream = new MemoryStream();

        Assert.True(content.CopyToAsync(stream).IsCompletedSuccessfully);
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            Assert.False(rented.AsSpan(0, 256).SequenceEqual(secret.AsSpan(0, 256)), "the chunk went back to the pool holding the tensor");
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    [Fact]
    public async Task LengthNotDeclared_NoContentLength_SameBytes_LengthStillKnown()
    {
        var request = new InferenceRequest
        {
            Id = "r",
            Inputs = [.. SampleTensors.AllTypes.Select(t => SampleTensors.For(t, "in_" + t)), new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], new float[3 * 224 * 224])],
        };
        using var declared = new V2BinaryRequestContent(request, binaryOutputs: true);
        using var undeclared = new V2BinaryRequestContent(request, binaryOutputs: true, declareLength: false);

        var bytes = await WrittenAsync(undeclared);

        Assert.Null(undeclared.Headers.ContentLength);
        Assert.Equal(await WrittenAsync(declared), bytes);
        Assert.Equal(bytes.Length, undeclared.Length);
        Assert.Equal(bytes.Length, declared.Length);
        Assert.Equal(declared.HeaderLength, undeclared.HeaderLength);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OverHttp11_DeclaredLengthSentWithIt_OtherwiseChunked_SameBodyArrives(bool declareLength)
    {
        var request = new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], new float[3 * 224 * 224])] };
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true, declareLength);
        var expected = await WrittenAsync(content);
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var received = ReceiveOneRequestAsync(listener);
        using var http = new HttpClient();

        using var response = await http.PostAsync(new Uri($"http://127.0.0.1:{port}/v2/models/m/infer"), content);

        var (head, body) = await received;
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(declareLength, head.Contains($"\r\nContent-Length: {expected.Length}\r\n", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(!declareLength, head.Contains("\r\nTransfer-Encoding: chunked\r\n", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task Image_WrittenWithoutATensorSizedAllocation()
    {
        var image = new float[3 * 224 * 224];
        var request = new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], image)] };
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true);
        await content.CopyToAsync(Stream.Null); // the pool's first chunk

        var before = GC.GetAllocatedBytesForCurrentThread();
        await content.CopyToAsync(Stream.Null);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The assembled body was 602 KB; writing it from the tensor needs only small objects of its own.
        Assert.True(allocated < 16 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void Segments_JoinedAreTheBytesSent_EveryDatatype()
    {
        var request = new InferenceRequest { Id = "r", Inputs = [.. SampleTensors.AllTypes.Select(t => SampleTensors.For(t, "in_" + t))] };
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true);
        var joined = new List<byte>();

        content.VisitSegments(static (segment, joined) => joined.AddRange(segment), joined);

        Assert.Equal(V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: true).Body, joined.ToArray());
    }

    [Fact]
    public void Segments_OfAnImage_SearchedWhereTheyLie_NoTensorSizedAllocation()
    {
        var image = new float[3 * 224 * 224];
        var request = new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], image)] };
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true);
        var search = new CanarySearch(new CanaryTokens(["RK-7F3Q-MZ8W-K2XD"]));
        content.VisitSegments(static (segment, search) => search.Add(segment), search);

        var before = GC.GetAllocatedBytesForCurrentThread();
        content.VisitSegments(static (segment, search) => search.Add(segment), search);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 1024, $"allocated {allocated} bytes");
        Assert.Empty(search.Found);
    }

    [Fact]
    public async Task PooledImage_RequestEndsWhileItIsWritten_ArrayStaysUntilTheLastByteThenGoesBack()
    {
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var (request, pixels, lease) = PooledImage(pool);
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true);
        using var stream = new GatedStream();

        var writing = content.CopyToAsync(stream);
        await stream.FirstWrite.Task.WaitAsync(TimeSpan.FromMinutes(1));
        lease.Release(); // the request that sent it has ended (an early response, a cancelled call)

        Assert.False(lease.IsReleased);
        Assert.Equal(0, pool.RetainedBytes);
        stream.Open.SetResult();
        await writing;

        var expected = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], pixels)] }, binaryInputs: true, binaryOutputs: true).Body;
        Assert.Equal(expected, stream.ToArray());
        Assert.True(lease.IsReleased);
        Assert.Equal(pixels.Length * sizeof(float), pool.RetainedBytes);
    }

    [Fact]
    public async Task PooledImage_ReleasedBeforeItIsWrittenOrSearched_RefusedNothingWritten()
    {
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var (request, _, lease) = PooledImage(pool);
        using var content = new V2BinaryRequestContent(request, binaryOutputs: true);
        lease.Release();
        using var stream = new MemoryStream();

        var error = await Assert.ThrowsAnyAsync<Exception>(() => content.CopyToAsync(stream));

        Assert.IsType<ObjectDisposedException>(error as ObjectDisposedException ?? error.InnerException);
        Assert.Equal(0, stream.Length);
        Assert.Throws<ObjectDisposedException>(() => content.VisitSegments(static (_, _) => { }, 0));
    }

    private static (InferenceRequest Request, float[] Pixels, TensorLease Lease) PooledImage(TensorArrayPool pool)
    {
        var pixels = new float[3 * 224 * 224];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i % 255) / 255f;
        }

        var lease = pool.Lease();
        var data = (float[])lease.Rent(TensorDataType.Fp32, pixels.Length);
        pixels.CopyTo(data, 0);
        return (new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], data) { Lease = lease }] }, pixels, lease);
    }

    // A connection that takes the first write, then waits until opened.
    private sealed class GatedStream : MemoryStream
    {
        public TaskCompletionSource FirstWrite { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await base.WriteAsync(buffer, cancellationToken);
            FirstWrite.TrySetResult();
            await Open.Task.WaitAsync(cancellationToken);
        }
    }

    private static async Task<V2BinaryRequestContent> AssertSameAsAssembledAsync(InferenceRequest request)
    {
        var assembled = V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: true);
        var content = new V2BinaryRequestContent(request, binaryOutputs: true);

        var written = await WrittenAsync(content);

        Assert.Equal(assembled.Body, written);
        Assert.Equal(assembled.HeaderLength, content.HeaderLength);
        Assert.Equal(assembled.Body.Length, content.Headers.ContentLength);
        Assert.Equal(EncodedBody.BinaryContentType, content.Headers.ContentType?.MediaType);
        return content;
    }

    // One HTTP/1.1 request off the socket: its head, and its body whole (by Content-Length, or the chunks joined); then 200.
    private static async Task<(string Head, byte[] Body)> ReceiveOneRequestAsync(System.Net.Sockets.TcpListener listener)
    {
        using var socket = await listener.AcceptSocketAsync();
        using var stream = new System.Net.Sockets.NetworkStream(socket);
        using var reader = new BufferedStream(stream);
        var head = new System.Text.StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var b = reader.ReadByte();
            Assert.True(b >= 0, "the connection closed inside the head");
            head.Append((char)b);
        }

        var text = head.ToString();
        using var body = new MemoryStream();
        var lengthLine = text.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (lengthLine is not null)
        {
            await CopyExactlyAsync(reader, body, int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            while (true)
            {
                var size = Convert.ToInt32(ReadLine(reader).Split(';')[0], 16);
                await CopyExactlyAsync(reader, body, size);
                ReadLine(reader); // the chunk's CRLF (after the last, empty chunk: the end of the trailers)
                if (size == 0)
                {
                    break;
                }
            }
        }

        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
        return (text, body.ToArray());
    }

    private static string ReadLine(Stream stream)
    {
        var line = new System.Text.StringBuilder();
        int b;
        while ((b = stream.ReadByte()) >= 0 && b != '\n')
        {
            if (b != '\r')
            {
                line.Append((char)b);
            }
        }

        return line.ToString();
    }

    private static async Task CopyExactlyAsync(Stream from, Stream to, int count)
    {
        var buffer = new byte[64 * 1024];
        while (count > 0)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, count)));
            Assert.True(read > 0, "the connection closed inside the body");
            await to.WriteAsync(buffer.AsMemory(0, read));
            count -= read;
        }
    }

    // As HttpClient sends it: serialised to the connection's stream each time, never buffered by the content.
    private static async Task<byte[]> WrittenAsync(HttpContent content)
    {
        using var stream = new MemoryStream();
        await content.CopyToAsync(stream);
        return stream.ToArray();
    }
}
