namespace ServerlessServe.Core.Protocol;

/// <summary>
/// One named tensor in row-major order. <see cref="Data"/> is a flat one-dimensional array whose element type is
/// <see cref="TensorDataTypes.ClrElementType"/> of <see cref="DataType"/> (BYTES elements are <c>byte[]</c>).
/// </summary>
public sealed class Tensor
{
    public Tensor(string name, TensorDataType dataType, long[] shape, Array data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        TensorDataTypes.EnsureDataMatches(dataType, data);
        Name = name;
        DataType = dataType;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }

    public TensorDataType DataType { get; }

    /// <summary>Dimensions; all non-negative for a concrete tensor.</summary>
    public long[] Shape { get; }

    public Array Data { get; }

    public int ElementCount => Data.Length;

    /// <summary>The bytes of <see cref="Data"/>'s elements; for a BYTES tensor, its elements' lengths (at least one each).</summary>
    public long DataBytes
    {
        get
        {
            if (DataType != TensorDataType.Bytes)
            {
                return (long)Data.Length * DataType.ElementSize();
            }

            long bytes = 0;
            foreach (var element in (byte[][])Data)
            {
                bytes += Math.Max(1, element.Length);
            }

            return bytes;
        }
    }

    /// <summary>
    /// The lease <see cref="Data"/> was rented under when it came from a <see cref="TensorArrayPool"/>, else null. A
    /// reader that may outlive the request holds it while it reads (<see cref="TensorLease.HoldAll"/>).
    /// </summary>
    public TensorLease? Lease { get; init; }

    /// <summary>The product of <see cref="Shape"/>; -1 when it overflows or a dimension is negative.</summary>
    public static long ShapeElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                return -1;
            }

            try
            {
                count = checked(count * dim);
            }
            catch (OverflowException)
            {
                return -1;
            }
        }

        return count;
    }

    /// <summary>The typed view of <see cref="Data"/>; throws when <typeparamref name="T"/> is not the element type.</summary>
    /// <remarks>
    /// Checks the exact element type: the CLR would otherwise let an <c>int[]</c> pass as a <c>uint[]</c> (and
    /// <c>sbyte[]</c> as <c>byte[]</c>, <c>long[]</c> as <c>ulong[]</c>), so never dispatch on <c>Data is uint[]</c>;
    /// switch on <see cref="DataType"/> instead.
    /// </remarks>
    public T[] As<T>() => typeof(T) == DataType.ClrElementType()
        ? (T[])Data
        : throw new InvalidOperationException($"Tensor '{Name}' does not hold {typeof(T).Name} elements.");
}
