using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class ExtractionStateChunksTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(65_536, 1)]
    [InlineData(65_537, 2)]
    [InlineData(145_608, 3)]
    public void Split_Length_ChunksOfAtMost64KiB(int length, int expectedChunks)
    {
        var data = Enumerable.Range(0, length).Select(static i => (byte)(i * 31)).ToArray();

        var chunks = ExtractionStateChunks.Split(data);

        Assert.Equal(expectedChunks, chunks.Count);
        Assert.All(chunks, static c => Assert.InRange(c.Length, 1, ExtractionStateChunks.MaxChunkBytes));
        Assert.Equal(data, ExtractionStateChunks.Join(chunks));
    }

    [Fact]
    public void SplitThenJoin_LargestDefaultState_Deserializes()
    {
        var detector = new ExtractionDetector(new ExtractionDetectorOptions());
        var state = detector.CreateState(3 * 32 * 32);
        var random = new Random(5);
        // Random queries over 50 classes until the state outgrows one property (about 125 stored queries).
        var bytes = detector.Serialize(state);
        for (var i = 0; i < 3000 && bytes.Length <= ExtractionStateChunks.MaxChunkBytes; i++)
        {
            var query = Enumerable.Range(0, 3 * 32 * 32).Select(_ => (float)random.NextDouble()).ToArray();
            detector.Observe(state, query, i % 50, DateTimeOffset.UnixEpoch.AddSeconds(i));
            bytes = detector.Serialize(state);
        }

        var chunks = ExtractionStateChunks.Split(bytes);

        Assert.True(chunks.Count >= 2);
        Assert.Equal(bytes, detector.Serialize(detector.Deserialize(ExtractionStateChunks.Join(chunks))));
    }

    [Fact]
    public void Split_SmallChunkSize_Honoured()
    {
        var chunks = ExtractionStateChunks.Split(new byte[10], 4);

        Assert.Equal([4, 4, 2], chunks.Select(static c => c.Length));
    }

    [Fact]
    public void Split_ChunkSizeBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ExtractionStateChunks.Split(new byte[3], 0));
    }
}
