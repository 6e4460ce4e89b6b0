namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>A body that hands its bytes over in pieces of 1 to <paramref name="maxPiece"/> bytes (seeded), as a slow connection may; it counts reads.</summary>
internal sealed class PieceStream(byte[] data, int seed, int maxPiece = 7) : MemoryStream(data)
{
    private readonly Random _random = new(seed);

    public int Reads { get; private set; }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Reads++;
        return base.ReadAsync(buffer[..Math.Min(buffer.Length, _random.Next(1, maxPiece + 1))], cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
}
