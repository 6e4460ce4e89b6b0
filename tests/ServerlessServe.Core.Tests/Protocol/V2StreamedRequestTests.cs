using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// A binary-extension request read from the connection as it arrives (<see cref="V2Json.ReadRequestAsync"/>, the
/// inference app's read): the same request as the buffered reader gives, every tensor's bytes straight into its own
/// array, no buffer of the body's size, and declared sizes that cannot hold refused before anything is allocated for
/// them. Its refusals are checked against the buffered reader's in every framing test (<see cref="ProtocolAssert.Refused(byte[], int?, int, ProtocolLimits?, string[])"/>).
/// </summary>
public sealed class V2StreamedRequestTests
{
    private static readonly ProtocolLimits Limits = new();

    public static TheoryData<TensorDataType, bool> TypesAndFraming()
    {
        var data = new TheoryData<TensorDataType, bool>();
        foreach (var type in SampleTensors.AllTypes)
        {
            data.Add(type, true);
            data.Add(type, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TypesAndFraming))]
    public async Task EachDatatype_WithAJsonTensorIdAndOutputs_SameRequestAsTheBufferedReader(TensorDataType type, bool declareLength)
    {
        var encoded = V2Json.WriteRequest(new InferenceRequest { Id = "r-7", Inputs = [SampleTensors.For(type, "a"), SampleTensors.For(type, "b")] }, binaryInputs: true, binaryOutputs: true);

        // A tensor given as JSON data in the header, between the binary ones, and outputs asked for by name.
        var header = Encoding.UTF8.GetString(encoded.Body, 0, encoded.HeaderLength!.Value)
            .Replace("\"inputs\":[", "\"inputs\":[{\"name\":\"j\",\"shape\":[2],\"datatype\":\"INT32\",\"data\":[5,-6]},", StringComparison.Ordinal)
            .Replace("\"parameters\":{\"binary_data_output\":true}", "\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":false}}]", StringComparison.Ordinal);
        var headerBytes = Encoding.UTF8.GetBytes(header);
        byte[] body = [.. headerBytes, .. encoded.Body.AsSpan(encoded.HeaderLength.Value)];
        var buffered = V2Json.ReadRequest(body, headerBytes.Length, Limits);

        for (var seed = 1; seed <= 5; seed++)
        {
            var streamed = await V2Json.ReadRequestAsync(new PieceStream(body, seed, maxPiece: seed * 11), declareLength ? body.Length : null, headerBytes.Length, Limits, null, CancellationToken.None);

            Assert.Equal("r-7", streamed.Id);
            Assert.Equal(["j", "a", "b"], streamed.Inputs.Select(t => t.Name));
            ProtocolAssert.TensorsEqual(buffered.Inputs, streamed.Inputs);
            Assert.Equal("y", Assert.Single(streamed.Outputs!).Name);
            Assert.False(streamed.IsBinaryOutputRequested("y"));

            // The gateway's read: the body received whole into several buffers, each tensor copied out of them.
            var segmented = V2Json.ReadRequest(Segments.Split(body, seed, maxPiece: seed * 11), headerBytes.Length, Limits, null);
            Assert.Equal("r-7", segmented.Id);
            ProtocolAssert.TensorsEqual(buffered.Inputs, segmented.Inputs);
            Assert.Equal("y", Assert.Single(segmented.Outputs!).Name);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Images_IntoPooledArrays_NoReadOfferedMoreThanTheStagingBuffer(bool declareLength)
    {
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var images = Enumerable.Range(1, 3).Select(Image).ToArray();
        var request = new InferenceRequest
        {
            Inputs = [.. images.Select((pixels, i) => new Tensor($"image{i}", TensorDataType.Fp32, [1, 3, 224, 224], pixels)), new Tensor("flags", TensorDataType.Bool, [2], new[] { false, true })],
        };
        var encoded = V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: false);
        var stream = new PieceStream(encoded.Body, maxPiece: 0);
        var lease = pool.Lease();

        var read = await V2Json.ReadRequestAsync(stream, declareLength ? encoded.Body.Length : null, encoded.HeaderLength!.Value, Limits, lease, CancellationToken.None);

        for (var i = 0; i < images.Length; i++)
        {
            Assert.Equal(images[i], (float[])read.Inputs[i].Data);
            Assert.Same(lease, read.Inputs[i].Lease);
        }

        Assert.Equal(new[] { false, true }, (bool[])read.Inputs[3].Data);
        Assert.Null(read.Inputs[3].Lease);

        // 1.8 MB went through reads of at most the staging buffer's size: nothing was sized by the body.
        Assert.InRange(stream.LargestOffered, 1, V2BodyReader.StagingBytes * 2);
        Assert.True(stream.Reads > encoded.Body.Length / (V2BodyReader.StagingBytes * 2), $"{stream.Reads} reads");
        lease.Release();
        Assert.Equal(3L * 3 * 224 * 224 * sizeof(float), pool.RetainedBytes);
    }

    [Fact]
    public async Task ChunkedBody_DeclaredTensorsOverTheBodyLimit_Refused413_NothingAllocatedForThem()
    {
        var limits = new ProtocolLimits { MaxBodyBytes = 4 * 1024 * 1024 };
        var header = """{"inputs":[{"name":"a","shape":[1048576],"datatype":"FP32","parameters":{"binary_data_size":4194304}},{"name":"b","shape":[1048576],"datatype":"FP32","parameters":{"binary_data_size":4194304}}]}"""u8.ToArray();
        byte[] body = [.. header, 1, 2, 3, 4];

        var before = GC.GetAllocatedBytesForCurrentThread();
        var refused = await Assert.ThrowsAsync<RefusedException>(() => V2Json.ReadRequestAsync(
            new MemoryStream(body), null, header.Length, limits, null, CancellationToken.None));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(RefusalKind.TooLarge, refused.Kind);
        Assert.InRange(allocated, 0, 1024 * 1024);
    }

    [Fact]
    public async Task ContentLengthShorterThanTheDeclaredTensors_RefusedBeforeTheirArraysAreAllocated()
    {
        var header = """{"inputs":[{"name":"a","shape":[1048576],"datatype":"FP32","parameters":{"binary_data_size":4194304}}]}"""u8.ToArray();
        byte[] body = [.. header, 1, 2, 3, 4];

        var before = GC.GetAllocatedBytesForCurrentThread();
        var refused = await Assert.ThrowsAsync<RefusedException>(() => V2Json.ReadRequestAsync(
            new MemoryStream(body), body.Length, header.Length, Limits, null, CancellationToken.None));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(RefusalKind.Invalid, refused.Kind);
        Assert.Equal("inputs[0]: binary data is shorter than binary_data_size", refused.Message);
        Assert.InRange(allocated, 0, 1024 * 1024);
    }

    [Theory]
    [InlineData(true, "request body is shorter than its Content-Length")]
    [InlineData(false, "inputs[0]: binary data is shorter than binary_data_size")]
    public async Task BodyEndsInsideATensor_Refused400(bool declareLength, string message)
    {
        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], Image(4))] }, binaryInputs: true, binaryOutputs: false);
        var cut = encoded.Body[..^1000];

        // With a declared length the connection ends early (the server's own framing error, simulated by the cut).
        var refused = await Assert.ThrowsAsync<RefusedException>(() => V2Json.ReadRequestAsync(
            new PieceStream(cut, seed: 3, maxPiece: 70_000), declareLength ? encoded.Body.Length : null, encoded.HeaderLength!.Value, Limits, null, CancellationToken.None));

        Assert.Equal(RefusalKind.Invalid, refused.Kind);
        Assert.Equal(message, refused.Message);
    }

    /// <summary>
    /// A body that ends right after its last tensor, short of the Content-Length it declared, is refused as the buffered
    /// reader refuses it (review 2026-12-08: it was read as whole).
    /// </summary>
    [Fact]
    public async Task BodyEndsAfterTheLastTensorShortOfItsContentLength_Refused400()
    {
        var header = """{"inputs":[{"name":"a","shape":[1],"datatype":"FP32","parameters":{"binary_data_size":4}}]}"""u8.ToArray();
        byte[] body = [.. header, 0, 0, 128, 63];

        var refused = await Assert.ThrowsAsync<RefusedException>(() => V2Json.ReadRequestAsync(
            new MemoryStream(body), body.Length + 8, header.Length, Limits, null, CancellationToken.None));

        Assert.Equal((RefusalKind.Invalid, "request body is shorter than its Content-Length"), (refused.Kind, refused.Message));
    }

    /// <summary>
    /// A header length past a small declared Content-Length is the buffered reader's 400, not too large (review
    /// 2026-12-08); without a declared length, a header length past the body limit is too large.
    /// </summary>
    [Fact]
    public async Task HeaderLengthPastTheDeclaredBody_400AsBuffered_PastTheLimitWithoutOne_413()
    {
        var body = new byte[200];

        var invalid = await Assert.ThrowsAsync<RefusedException>(() => V2Json.ReadRequestAsync(
            new MemoryStream(body), body.Length, 40_000_000, Limits, null, CancellationToken.None));
        var tooLarge = await Assert.ThrowsAsync<RefusedException>(() => V2Json.ReadRequestAsync(
            new MemoryStream(body), null, 40_000_000, Limits, null, CancellationToken.None));

        Assert.Equal(RefusalKind.Invalid, invalid.Kind);
        Assert.Contains("is negative or larger than the body", invalid.Message, StringComparison.Ordinal);
        Assert.Equal(RefusalKind.TooLarge, tooLarge.Kind);
    }

    [Fact]
    public async Task Cancelled_WhileTheBodyArrives_Cancels()
    {
        var encoded = V2Json.WriteRequest(new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], Image(5))] }, binaryInputs: true, binaryOutputs: false);
        using var cancel = new CancellationTokenSource();
        var stream = new CancellingStream(encoded.Body, cancel, afterReads: 3);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => V2Json.ReadRequestAsync(stream, null, encoded.HeaderLength!.Value, Limits, null, cancel.Token));
    }

    private static float[] Image(int seed)
    {
        var pixels = new float[3 * 224 * 224];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = ((i * seed) % 251) - 0.5f;
        }

        return pixels;
    }

    private sealed class CancellingStream(byte[] data, CancellationTokenSource cancel, int afterReads) : MemoryStream(data)
    {
        private int _reads;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (++_reads > afterReads)
            {
                cancel.Cancel();
            }

            return base.ReadAsync(buffer[..Math.Min(buffer.Length, 4096)], cancellationToken);
        }
    }
}
