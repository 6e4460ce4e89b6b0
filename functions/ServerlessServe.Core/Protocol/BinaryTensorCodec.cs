using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// The raw tensor encoding of the binary tensor data extension: fixed-size elements little-endian and packed,
/// BOOL one byte (0 or 1), BYTES as a 4-byte little-endian length then the bytes, per element. On little-endian
/// machines encoding and decoding fixed-size tensors is a single copy.
/// </summary>
internal static class BinaryTensorCodec
{
    /// <summary>The number of bytes <see cref="Encode"/> writes for <paramref name="tensor"/>.</summary>
    public static long EncodedLength(Tensor tensor)
    {
        if (tensor.DataType != TensorDataType.Bytes)
        {
            return (long)tensor.Data.Length * tensor.DataType.ElementSize();
        }

        long total = 0;
        foreach (var element in (byte[][])tensor.Data)
        {
            total += 4L + element.Length;
        }

        return total;
    }

    /// <summary>Writes the raw encoding of <paramref name="tensor"/> to the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Encode(Tensor tensor, Span<byte> destination)
    {
        if (tensor.DataType != TensorDataType.Bytes)
        {
            var raw = NativeBytes(tensor.Data, tensor.DataType);
            raw.CopyTo(destination);
            if (!BitConverter.IsLittleEndian)
            {
                ReverseEachElement(destination[..raw.Length], tensor.DataType.ElementSize());
            }

            return raw.Length;
        }

        var offset = 0;
        foreach (var element in (byte[][])tensor.Data)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[offset..], (uint)element.Length);
            offset += 4;
            element.CopyTo(destination[offset..]);
            offset += element.Length;
        }

        return offset;
    }

    /// <summary>
    /// Decodes <paramref name="count"/> elements of <paramref name="type"/> that must fill <paramref name="source"/>
    /// exactly. Throws an invalid <see cref="RefusedException"/> naming only <paramref name="where"/>.
    /// </summary>
    public static Array Decode(ReadOnlySpan<byte> source, TensorDataType type, int count, int maxBytesLength, BodyLocation where) =>
        Decode(source, type, count, maxBytesLength, where, lease: null);

    /// <summary>
    /// As <see cref="Decode(ReadOnlySpan{byte}, TensorDataType, int, int, BodyLocation)"/>, into an array rented from
    /// <paramref name="lease"/> when it has one for such a tensor. Every element is written before the array is
    /// returned: nothing a pooled array held before is left in it.
    /// </summary>
    public static Array Decode(ReadOnlySpan<byte> source, TensorDataType type, int count, int maxBytesLength, BodyLocation where, TensorLease? lease)
    {
        if (type == TensorDataType.Bytes)
        {
            return DecodeBytes(source, count, maxBytesLength, where);
        }

        if (source.Length != (long)count * type.ElementSize())
        {
            throw where.Error("binary data size does not match shape and datatype");
        }

        var data = lease is null ? AllocateUninitialized(type, count) : lease.Rent(type, count);
        source.CopyTo(MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(data), source.Length));
        Received(data, type, source.Length, where);
        return data;
    }

    /// <summary>
    /// Finishes a fixed-size tensor whose <paramref name="length"/> raw bytes were copied into <paramref name="data"/> as
    /// they arrived (a streamed read): BOOL elements must be 0 or 1, and on a big-endian machine each element's bytes are
    /// put in its order. Throws an invalid <see cref="RefusedException"/> naming only <paramref name="where"/>.
    /// </summary>
    public static void Received(Array data, TensorDataType type, int length, BodyLocation where)
    {
        var bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(data), length);
        if (type == TensorDataType.Bool && bytes.IndexOfAnyExcept((byte)0, (byte)1) >= 0)
        {
            throw where.Error("binary BOOL elements must be 0 or 1");
        }

        if (!BitConverter.IsLittleEndian)
        {
            ReverseEachElement(bytes, type.ElementSize());
        }
    }

    /// <summary>The elements of a fixed-size tensor's array as bytes, in this machine's byte order.</summary>
    public static ReadOnlySpan<byte> NativeBytes(Array data, TensorDataType type) =>
        MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(data), checked(data.Length * type.ElementSize()));

    /// <summary>Swaps the bytes of every element in place (big-endian hosts only).</summary>
    public static void ReverseEachElement(Span<byte> bytes, int elementSize)
    {
        if (elementSize <= 1)
        {
            return;
        }

        for (var i = 0; i + elementSize <= bytes.Length; i += elementSize)
        {
            bytes.Slice(i, elementSize).Reverse();
        }
    }

    private static byte[][] DecodeBytes(ReadOnlySpan<byte> source, int count, int maxBytesLength, BodyLocation where)
    {
        // Every element takes at least its 4-byte length: refuse before allocating for a count the data cannot hold.
        if ((long)count * 4 > source.Length)
        {
            throw where.Error("binary data size does not match shape and datatype");
        }

        var elements = new byte[count][];
        var offset = 0;
        for (var i = 0; i < count; i++)
        {
            if (source.Length - offset < 4)
            {
                throw where.Error("binary data size does not match shape and datatype");
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(source[offset..]);
            offset += 4;
            if (length > (uint)maxBytesLength)
            {
                throw where.Error($"binary BYTES element {i} exceeds {maxBytesLength} bytes");
            }

            if (length > (uint)(source.Length - offset))
            {
                throw where.Error($"binary BYTES element {i} has a length prefix beyond the tensor's data");
            }

            elements[i] = source.Slice(offset, (int)length).ToArray();
            offset += (int)length;
        }

        if (offset != source.Length)
        {
            throw where.Error("binary data size does not match shape and datatype");
        }

        return elements;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Array AllocateUninitialized(TensorDataType type, int count) => type switch
    {
        TensorDataType.Bool => GC.AllocateUninitializedArray<bool>(count),
        TensorDataType.UInt8 => GC.AllocateUninitializedArray<byte>(count),
        TensorDataType.UInt16 => GC.AllocateUninitializedArray<ushort>(count),
        TensorDataType.UInt32 => GC.AllocateUninitializedArray<uint>(count),
        TensorDataType.UInt64 => GC.AllocateUninitializedArray<ulong>(count),
        TensorDataType.Int8 => GC.AllocateUninitializedArray<sbyte>(count),
        TensorDataType.Int16 => GC.AllocateUninitializedArray<short>(count),
        TensorDataType.Int32 => GC.AllocateUninitializedArray<int>(count),
        TensorDataType.Int64 => GC.AllocateUninitializedArray<long>(count),
        TensorDataType.Fp16 => GC.AllocateUninitializedArray<Half>(count),
        TensorDataType.Fp32 => GC.AllocateUninitializedArray<float>(count),
        TensorDataType.Fp64 => GC.AllocateUninitializedArray<double>(count),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
