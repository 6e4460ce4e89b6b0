using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

public class HttpBodyReaderTests
{
    [Fact]
    public async Task ReadLimitedAsync_ContentLengthOverCap_Refused413WithoutReading()
    {
        using var stream = new CountingStream(new byte[10]);

        var error = await Assert.ThrowsAsync<ProtocolException>(() => HttpBodyReader.ReadLimitedAsync(stream, 11, 10, CancellationToken.None));

        Assert.Equal(413, error.StatusCode);
        Assert.Equal(0, stream.BytesRead);
    }

    [Fact]
    public async Task ReadLimitedAsync_ChunkedOverCap_Refused413SoonAfterCap()
    {
        using var stream = new CountingStream(new byte[1_000_000]);

        var error = await Assert.ThrowsAsync<ProtocolException>(() => HttpBodyReader.ReadLimitedAsync(stream, null, 100, CancellationToken.None));

        Assert.Equal(413, error.StatusCode);
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

    [Fact]
    public async Task ReadLimitedAsync_BodyShorterThanContentLength_Refused400()
    {
        using var stream = new CountingStream(new byte[5]);

        var error = await Assert.ThrowsAsync<ProtocolException>(() => HttpBodyReader.ReadLimitedAsync(stream, 6, 10, CancellationToken.None));

        Assert.Equal(400, error.StatusCode);
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
