namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// A body that hands its bytes over in pieces of 1 to <paramref name="maxPiece"/> bytes (seeded), as a slow connection
/// may, or as much as each read asks for when <paramref name="maxPiece"/> is 0. It counts reads and records the largest
/// buffer a read offered (a reader whose memory follows the body offers ever larger ones).
/// </summary>
internal sealed class PieceStream(byte[] data, int seed = 0, int maxPiece = 7) : MemoryStream(data)
{
    private readonly Random _random = new(seed);

    public int Reads { get; private set; }

    public int LargestOffered { get; private set; }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Reads++;
        LargestOffered = Math.Max(LargestOffered, buffer.Length);
        var piece = maxPiece > 0 ? Math.Min(buffer.Length, _random.Next(1, maxPiece + 1)) : buffer.Length;
        return base.ReadAsync(buffer[..piece], cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
