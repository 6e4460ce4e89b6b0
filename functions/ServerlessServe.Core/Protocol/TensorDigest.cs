using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// SHA-256 over a canonical encoding of a set of tensors, so that the same tensors hash the same whichever wire
/// form (JSON or binary) they came in. Used by audit records, which keep digests and never payloads.
/// </summary>
/// <remarks>
/// Encoding (all integers little-endian): the ASCII tag <c>ssv-tensors-v1</c>, the tensor count (u32), then per
/// tensor in ordinal order of name: name (u32 byte length + UTF-8), datatype wire name (u32 length + ASCII),
/// rank (u32), each dimension (i64), element count (u64), then the elements: fixed-size types as their
/// little-endian bytes (BOOL one byte 0/1), BYTES each as u32 length + bytes.
/// </remarks>
public static class TensorDigest
{
    private static readonly byte[] Tag = "ssv-tensors-v1"u8.ToArray();

    /// <summary>Lowercase hex SHA-256 of the canonical encoding of <paramref name="tensors"/>.</summary>
    public static string Compute(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var ordered = new Tensor[tensors.Count];
        for (var i = 0; i < ordered.Length; i++)
        {
            ordered[i] = tensors[i];
        }

        Array.Sort(ordered, static (a, b) => string.CompareOrdinal(a.Name, b.Name));

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> scratch = stackalloc byte[8];
        hash.AppendData(Tag);
        AppendUInt32(hash, scratch, (uint)ordered.Length);
        foreach (var tensor in ordered)
        {
            AppendText(hash, scratch, tensor.Name);
            AppendText(hash, scratch, tensor.DataType.ToWire());
            AppendUInt32(hash, scratch, (uint)tensor.Shape.Length);
            foreach (var dim in tensor.Shape)
            {
                BinaryPrimitives.WriteInt64LittleEndian(scratch, dim);
                hash.AppendData(scratch);
            }

            BinaryPrimitives.WriteUInt64LittleEndian(scratch, (ulong)tensor.Data.Length);
            hash.AppendData(scratch);
            AppendElements(hash, scratch, tensor);
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        return Convert.ToHexStringLower(digest);
    }

    private static void AppendElements(IncrementalHash hash, Span<byte> scratch, Tensor tensor)
    {
        if (tensor.Data is byte[][] elements)
        {
            foreach (var element in elements)
            {
                AppendUInt32(hash, scratch, (uint)element.Length);
                hash.AppendData(element);
            }

            return;
        }

        var raw = BinaryTensorCodec.NativeBytes(tensor.Data, tensor.DataType);
        if (BitConverter.IsLittleEndian || tensor.DataType.ElementSize() == 1)
        {
            hash.AppendData(raw);
            return;
        }

        var copy = raw.ToArray();
        BinaryTensorCodec.ReverseEachElement(copy, tensor.DataType.ElementSize());
        hash.AppendData(copy);
    }

    private static void AppendUInt32(IncrementalHash hash, Span<byte> scratch, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(scratch, value);
        hash.AppendData(scratch[..4]);
    }

    private static void AppendText(IncrementalHash hash, Span<byte> scratch, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        AppendUInt32(hash, scratch, (uint)bytes.Length);
        hash.AppendData(bytes);
    }
}
