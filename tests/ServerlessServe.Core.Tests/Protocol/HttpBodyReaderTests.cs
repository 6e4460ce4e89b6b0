using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Protocol;

[Collection(SharedPoolCollection.Name)]
public class HttpBodyReaderTests
{
    /// <summary>The first read buffer: small, whatever Content-Length says.</summary>
    private const int FirstBufferBytes = 64 * 1024;

    [Fact]
    public async Task ReadLimitedAsync_ContentLengthOverCap_Refused413WithoutReading()
    {
        using var stream = new CountingStream(new byte[10]);

        var error = await Assert.ThrowsAsync<RefusedException>(() => HttpBodyReader.ReadLimitedAsync(stream, 11, 10, CancellationToken.None));

        Assert.Equal(RefusalKind.TooLarge, error.Kind);
        Assert.Equal(0, stream.BytesRead);
    }

    [Fact]
    public async Task ReadLimitedAsync_ChunkedOverCap_Refused413SoonAfterCap()
    {
        using var stream = new CountingStream(new byte[1_000_000]);

        var error = await Assert.ThrowsAsync<RefusedException>(() => HttpBodyReader.ReadLimitedAsync(stream, null, 100, CancellationToken.None));

        Assert.Equal(RefusalKind.TooLarge, error.Kind);
        Assert.True(stream.BytesRead < 100_000, $"read {stream.BytesRead} bytes before refusing");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(70_000)]
    [InlineData(200_000)]
    public async Task ReadLimitedAsync_WithinCap_ReturnsExactBody(int length)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        using var chunked = new CountingStream(data);
        using var declared = new CountingStream(data);

        Assert.Equal(data, await HttpBodyReader.ReadLimitedAsync(chunked, null, 200_000, CancellationToken.None));
        Assert.Equal(data, await HttpBodyReader.ReadLimitedAsync(declared, length, 200_000, CancellationToken.None));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(70_000, false)]
    [InlineData(200_000, true)]
    public async Task ReadPooledAsync_BodyInThePooledBuffer_OwnedByTheCaller(int length, bool declared)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        using var stream = new CountingStream(data);

        var (buffer, read) = await HttpBodyReader.ReadPooledAsync(stream, declared ? length : null, 200_000, CancellationToken.None);

        Assert.Equal(length, read);
        Assert.True(buffer.Length >= length);
        Assert.Equal(data, buffer.AsSpan(0, read).ToArray());
        System.Buffers.ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
    }

    [Fact]
    public async Task ReadLimitedAsync_BodyShorterThanContentLength_Refused400()
    {
        using var stream = new CountingStream(new byte[5]);

        var error = await Assert.ThrowsAsync<RefusedException>(() => HttpBodyReader.ReadLimitedAsync(stream, 6, 10, CancellationToken.None));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
    }

    [Fact]
    public async Task ReadLimitedAsync_LargeContentLengthButNothingArrives_FirstBufferSmall()
    {
        const int declared = 16 * 1024 * 1024;
        using var stream = new RecordingStream(new byte[0]);
        await Assert.ThrowsAsync<RefusedException>(() => HttpBodyReader.ReadLimitedAsync(new RecordingStream(new byte[0]), declared, declared, CancellationToken.None)); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var task = HttpBodyReader.ReadLimitedAsync(stream, declared, declared, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var error = await Assert.ThrowsAsync<RefusedException>(() => task);

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.True(Assert.Single(stream.ReadSizes) <= FirstBufferBytes, $"first read offered {stream.ReadSizes[0]} bytes");
        Assert.True(allocated < 1024 * 1024, $"allocated {allocated} bytes before any byte arrived");
    }

    [Fact]
    public async Task ReadLimitedAsync_DeclaredBodyArrivesSlowly_BufferGrowsWithTheBytes()
    {
        var data = Enumerable.Range(0, 1_000_000).Select(i => (byte)(i * 7)).ToArray();
        using var stream = new RecordingStream(data);

        var body = await HttpBodyReader.ReadLimitedAsync(stream, data.Length, 16 * 1024 * 1024, CancellationToken.None);

        Assert.Equal(data, body);
        AssertMemoryFollowsTheBytes(stream);
    }

    /// <summary>Body lengths around the first buffer, its double and half-way points, with a length and chunked.</summary>
    public static TheoryData<int, bool> BodiesPastTheFirstBuffer()
    {
        var data = new TheoryData<int, bool> { { 0, true }, { 70_000, false }, { 131_071, true }, { 131_072, true } };
        foreach (var length in new[] { 65_537, 131_073, 1_000_001, 3_000_000 })
        {
            data.Add(length, true);
            data.Add(length, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BodiesPastTheFirstBuffer))]
    public async Task ReadPooledAsync_BodyInSeveralBuffers_ArrivesWhole_MemoryFollowsTheBytes(int length, bool declared)
    {
        // Bodies past the first buffer are read into further buffers and put together (with a Content-Length, into the
        // buffer for the whole body once half of it is here): every byte in its place, whichever way it was sent.
        var data = Enumerable.Range(0, length).Select(i => (byte)((i * 31) ^ (i >> 11))).ToArray();
        using var stream = new RecordingStream(data);

        var (buffer, read) = await HttpBodyReader.ReadPooledAsync(stream, declared ? length : null, 4 * 1024 * 1024, CancellationToken.None);

        Assert.Equal(length, read);
        Assert.True(data.AsSpan().SequenceEqual(buffer.AsSpan(0, read)));
        HttpBodyReader.Return(buffer, read);
        AssertMemoryFollowsTheBytes(stream);
    }

    [Theory]
    [MemberData(nameof(BodiesPastTheFirstBuffer))]
    public async Task ReadSegmentsAsync_BodyStaysInTheBuffersItArrivedIn_WipedWhenDisposed_MemoryFollowsTheBytes(int length, bool declared)
    {
        // The same buffers as ReadPooledAsync's while less than half has arrived, then (with a length) one for the rest;
        // never put together.
        var data = Enumerable.Range(0, length).Select(i => (byte)((i * 31) ^ (i >> 11) | 1)).ToArray();
        using var stream = new RecordingStream(data);

        var body = await HttpBodyReader.ReadSegmentsAsync(stream, declared ? length : null, 4 * 1024 * 1024, CancellationToken.None);

        Assert.Equal(length, body.Length);
        Assert.True(data.AsSpan().SequenceEqual(System.Buffers.BuffersExtensions.ToArray(body.Content)));
        var parts = new List<ArraySegment<byte>>();
        foreach (var part in body.Content)
        {
            Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(part, out var segment));
            parts.Add(segment);
        }

        Assert.Equal(length > FirstBufferBytes, parts.Count > 1);
        if (declared && length > 2 * FirstBufferBytes)
        {
            // The last buffer holds the rest: taken once half had arrived, sized to what was left (the buffer before it may
            // end past half, as the pool rounds a rental up to a power of two).
            Assert.InRange(length - parts[^1].Count, (length + 1) / 2, length - 1);
        }

        body.Dispose();
        body.Dispose();
        Assert.True(body.Content.IsEmpty);
        Assert.All(parts, segment => Assert.DoesNotContain(segment, b => b != 0));
        AssertMemoryFollowsTheBytes(stream);
    }

    // Each read is offered at most twice what had arrived before it (or the first 64 KiB), never the declared size up front.
    private static void AssertMemoryFollowsTheBytes(RecordingStream stream)
    {
        long arrived = 0;
        foreach (var (offered, read) in stream.ReadSizes.Zip(stream.ReadCounts))
        {
            Assert.True(offered <= Math.Max(FirstBufferBytes, 2 * arrived), $"offered {offered} after {arrived} bytes");
            arrived += read;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadPooledOrSegmentsAsync_DeclaredBodyEndsEarlyAfterSeveralBuffers_Refused400(bool segments)
    {
        using var stream = new RecordingStream(new byte[700_000]);

        var error = await Assert.ThrowsAsync<RefusedException>(() => ReadAsync(segments, stream, 1_000_000, 4 * 1024 * 1024));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.Equal("request body is shorter than its Content-Length", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReadPooledOrSegmentsAsync_ChunkedBodyOverCapAfterSeveralBuffers_Refused413(bool segments)
    {
        using var stream = new RecordingStream(new byte[600_001]);

        var error = await Assert.ThrowsAsync<RefusedException>(() => ReadAsync(segments, stream, null, 600_000));

        Assert.Equal(RefusalKind.TooLarge, error.Kind);
    }

    private static async Task ReadAsync(bool segments, Stream stream, long? contentLength, int maxBytes)
    {
        if (segments)
        {
            (await HttpBodyReader.ReadSegmentsAsync(stream, contentLength, maxBytes, CancellationToken.None)).Dispose();
        }
        else
        {
            var (buffer, length) = await HttpBodyReader.ReadPooledAsync(stream, contentLength, maxBytes, CancellationToken.None);
            HttpBodyReader.Return(buffer, length);
        }
    }

    [Fact]
    public void Return_WipesTheBytesTheBodyWrote()
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(100_000);
        buffer.AsSpan(0, 70_000).Fill(0xAB);

        HttpBodyReader.Return(buffer, 70_000);

        Assert.DoesNotContain((byte)0xAB, buffer.AsSpan(0, 70_000).ToArray());
    }

    [Fact]
    public async Task ReadLimitedAsync_BodyLongerThanContentLength_Refused400()
    {
        using var stream = new CountingStream(new byte[7]);

        var error = await Assert.ThrowsAsync<RefusedException>(() => HttpBodyReader.ReadLimitedAsync(stream, 6, 10, CancellationToken.None));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.Equal("request body is longer than its Content-Length", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65_536)]
    [InlineData(65_537)]
    public async Task ReadLimitedAsync_BodyExactlyAtCap_Accepted(int length)
    {
        var data = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();

        Assert.Equal(data, await HttpBodyReader.ReadLimitedAsync(new CountingStream(data), null, length, CancellationToken.None));
        Assert.Equal(data, await HttpBodyReader.ReadLimitedAsync(new CountingStream(data), length, length, CancellationToken.None));
        Assert.Equal(RefusalKind.TooLarge, (await Assert.ThrowsAsync<RefusedException>(() => HttpBodyReader.ReadLimitedAsync(new CountingStream([.. data, 1]), null, length, CancellationToken.None))).Kind);
    }

    /// <summary>A stream that hands out at most 4 KiB a read and records the size of each buffer it was offered.</summary>
    private sealed class RecordingStream(byte[] data) : MemoryStream(data)
    {
        public List<int> ReadSizes { get; } = [];

        public List<int> ReadCounts { get; } = [];

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ReadSizes.Add(buffer.Length);
            var read = Read(buffer.Span[..Math.Min(buffer.Length, 4096)]);
            ReadCounts.Add(read);
            return ValueTask.FromResult(read);
        }
    }

    /// <summary>A stream that hands out at most 4 KiB a read and counts what was read.</summary>
    private sealed class CountingStream(byte[] data) : MemoryStream(data)
    {
        public long BytesRead { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await base.ReadAsync(buffer[..Math.Min(buffer.Length, 4096)], cancellationToken);
            BytesRead += read;
            return read;
        }
    }
}
