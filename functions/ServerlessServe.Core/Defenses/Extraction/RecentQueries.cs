using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// The fingerprints of a caller's latest queries, to recognise an exact repeat
/// (<see cref="ExtractionDetectorOptions.RepeatWindow"/>): a ring of fixed capacity, the oldest dropping out first. A
/// fingerprint is the first 128 bits of SHA-256 over the predicted class and the query at half precision, so a caller
/// cannot craft a new query that passes for an earlier one (that would take a second preimage of 128 bits). At most
/// 16 bytes per query whatever the caller sends.
/// </summary>
internal sealed class RecentQueries
{
    // Up to this many values the hashed bytes live on the stack.
    private const int StackValues = 1024;

    // Half-precision bits of -0, which compares equal to 0.
    private const ushort NegativeZero = 0x8000;

    private readonly ulong[] _high;
    private readonly ulong[] _low;
    private int _start;

    /// <summary>An empty ring of <paramref name="capacity"/> fingerprints (0: nothing is remembered).</summary>
    public RecentQueries(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Capacity = capacity;
        _high = new ulong[capacity];
        _low = new ulong[capacity];
    }

    /// <summary>Most fingerprints held.</summary>
    public int Capacity { get; }

    /// <summary>Fingerprints held.</summary>
    public int Count { get; private set; }

    /// <summary>The fingerprint at <paramref name="index"/> (0 the oldest held).</summary>
    public UInt128 this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            var slot = (_start + index) % Capacity;
            return new UInt128(_high[slot], _low[slot]);
        }
    }

    /// <summary>
    /// The fingerprint of a query of class <paramref name="label"/> whose values are <paramref name="halves"/>
    /// (half-precision bits; a negative zero is taken as zero, as the distances take it).
    /// </summary>
    public static UInt128 Fingerprint(int label, ReadOnlySpan<ushort> halves)
    {
        var length = 4 + (2 * halves.Length);
        byte[]? rented = null;
        var bytes = halves.Length <= StackValues
            ? stackalloc byte[length]
            : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes, label);
            for (var i = 0; i < halves.Length; i++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes[(4 + (2 * i))..], halves[i] == NegativeZero ? (ushort)0 : halves[i]);
            }

            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes, digest);
            return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The fingerprint of a query of class <paramref name="label"/> as the caller sent it: over the exact bits of its
    /// values before any reduction (a negative zero taken as zero). Since 2026-12-07 a repeat is this exact repeat: the
    /// reduced query (clamped to the half-precision range, rounded to it, feature-hashed past 256 values) let crafted
    /// queries that reduce alike pass as repeats, which count towards volume only (found in review).
    /// </summary>
    public static UInt128 Fingerprint(int label, ReadOnlySpan<float> input)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        if (input.Length <= StackValues)
        {
            // One pass over a stack copy: no allocation for the rows of tabular models and small images.
            Span<byte> bytes = stackalloc byte[4 + (4 * input.Length)];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, label);
            WriteValues(input, bytes[4..]);
            SHA256.HashData(bytes, digest);
            return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> block = stackalloc byte[4 * 256];
        BinaryPrimitives.WriteInt32LittleEndian(block, label);
        hash.AppendData(block[..4]);
        for (var start = 0; start < input.Length; start += 256)
        {
            var part = input.Slice(start, Math.Min(256, input.Length - start));
            WriteValues(part, block);
            hash.AppendData(block[..(4 * part.Length)]);
        }

        hash.GetHashAndReset(digest);
        return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(digest), BinaryPrimitives.ReadUInt64BigEndian(digest[8..]));
    }

    // Each value's bits, little-endian; + 0f turns -0 into +0 and leaves every other value as it is.
    private static void WriteValues(ReadOnlySpan<float> values, Span<byte> destination)
    {
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(destination[(4 * i)..], values[i] + 0f);
        }
    }

    /// <summary>Whether <paramref name="fingerprint"/> is held.</summary>
    public bool Contains(UInt128 fingerprint)
    {
        var high = (ulong)(fingerprint >> 64);
        var low = (ulong)fingerprint;
        var held = _high.AsSpan(0, Count);
        var offset = 0;
        while (offset < held.Length)
        {
            var found = held[offset..].IndexOf(high);
            if (found < 0)
            {
                return false;
            }

            if (_low[offset + found] == low)
            {
                return true;
            }

            offset += found + 1;
        }

        return false;
    }

    /// <summary>Appends <paramref name="fingerprint"/>, dropping the oldest when full; nothing at capacity 0.</summary>
    public void Add(UInt128 fingerprint)
    {
        if (Capacity == 0)
        {
            return;
        }

        int slot;
        if (Count < Capacity)
        {
            slot = (_start + Count) % Capacity;
            Count++;
        }
        else
        {
            slot = _start;
            _start = (_start + 1) % Capacity;
        }

        _high[slot] = (ulong)(fingerprint >> 64);
        _low[slot] = (ulong)fingerprint;
    }
}
