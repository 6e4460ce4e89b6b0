using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>The pooled buffer writer the response writer uses: it keeps what was written across growth and refuses misuse.</summary>
public class PooledByteWriterTests
{
    [Fact]
    public void Writes_AcrossGrowth_KeepEveryByteInOrder()
    {
        var random = new Random(1501);
        var expected = new List<byte>();
        using var writer = new PooledByteWriter(16);
        for (var k = 0; k < 2_000; k++)
        {
            var chunk = new byte[random.Next(0, 700)];
            random.NextBytes(chunk);
            var span = writer.GetSpan(chunk.Length);
            Assert.True(span.Length >= chunk.Length);
            chunk.CopyTo(span);
            writer.Advance(chunk.Length);
            expected.AddRange(chunk);
        }

        Assert.Equal(expected.ToArray(), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Advance_PastTheSpan_OrNegative_Refused()
    {
        using var writer = new PooledByteWriter(256);
        var room = writer.GetMemory().Length;
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(room + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Advance(-1));
        writer.Advance(room);
        Assert.Equal(room, writer.WrittenSpan.Length);
        Assert.True(writer.GetSpan().Length >= 1);
    }

    [Fact]
    public void AfterDispose_Refused()
    {
        var writer = new PooledByteWriter(256);
        writer.GetSpan(3)[0] = 7;
        writer.Advance(1);
        writer.Dispose();
        writer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => writer.GetSpan());
        Assert.Equal(0, writer.WrittenSpan.Length);
    }
}
