using System.Buffers.Binary;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Little-endian reads at a moving position (the state format). Every read checks the bytes left, and
/// <see cref="Count"/> checks a count against them before anything is allocated for it, so truncated or forged data
/// fails with <see cref="InvalidDataException"/> instead of allocating what it claims.
/// </summary>
internal ref struct StateReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _position;

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _data.Length - _position;

    public ReadOnlySpan<byte> Bytes(int length) => Take(length);

    public byte Byte() => Take(1)[0];

    public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    public float Single() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public void UInt16s(Span<ushort> destination)
    {
        var bytes = Take(2 * destination.Length);
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]);
        }
    }

    /// <summary>Reads a count of items of <paramref name="itemBytes"/> bytes each, at most <paramref name="max"/>, that the data left can hold.</summary>
    public int Count(int itemBytes, int max)
    {
        var count = Int32();
        if (count < 0 || count > max || (long)count * itemBytes > Remaining)
        {
            throw new InvalidDataException("The extraction state holds an impossible count.");
        }

        return count;
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length > Remaining)
        {
            throw new InvalidDataException("The extraction state is truncated.");
        }

        var slice = _data.Slice(_position, length);
        _position += length;
        return slice;
    }
}
