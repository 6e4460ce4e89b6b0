using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ServerlessServe.Core.Protocol;
using Tensor = ServerlessServe.Core.Protocol.Tensor;

namespace ServerlessServe.Onnx;

/// <summary>
/// Converts between protocol <see cref="Tensor"/>s and ONNX Runtime <see cref="OrtValue"/>s for every V2 datatype:
/// fixed-size elements are copied as raw bytes (FP16 is bit-identical to ORT's Float16, BOOL is one byte), BYTES map to
/// ORT string tensors holding the bytes as they are (UTF-8 for text).
/// </summary>
internal static class OrtTensors
{
    public static TensorElementType ToElementType(TensorDataType type) => type switch
    {
        TensorDataType.Bool => TensorElementType.Bool,
        TensorDataType.UInt8 => TensorElementType.UInt8,
        TensorDataType.UInt16 => TensorElementType.UInt16,
        TensorDataType.UInt32 => TensorElementType.UInt32,
        TensorDataType.UInt64 => TensorElementType.UInt64,
        TensorDataType.Int8 => TensorElementType.Int8,
        TensorDataType.Int16 => TensorElementType.Int16,
        TensorDataType.Int32 => TensorElementType.Int32,
        TensorDataType.Int64 => TensorElementType.Int64,
        TensorDataType.Fp16 => TensorElementType.Float16,
        TensorDataType.Fp32 => TensorElementType.Float,
        TensorDataType.Fp64 => TensorElementType.Double,
        TensorDataType.Bytes => TensorElementType.String,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static TensorDataType? ToDataType(TensorElementType type) => type switch
    {
        TensorElementType.Bool => TensorDataType.Bool,
        TensorElementType.UInt8 => TensorDataType.UInt8,
        TensorElementType.UInt16 => TensorDataType.UInt16,
        TensorElementType.UInt32 => TensorDataType.UInt32,
        TensorElementType.UInt64 => TensorDataType.UInt64,
        TensorElementType.Int8 => TensorDataType.Int8,
        TensorElementType.Int16 => TensorDataType.Int16,
        TensorElementType.Int32 => TensorDataType.Int32,
        TensorElementType.Int64 => TensorDataType.Int64,
        TensorElementType.Float16 => TensorDataType.Fp16,
        TensorElementType.Float => TensorDataType.Fp32,
        TensorElementType.Double => TensorDataType.Fp64,
        TensorElementType.String => TensorDataType.Bytes,
        _ => null,
    };

    /// <summary>A new OrtValue holding a copy of <paramref name="tensor"/>; the caller disposes it.</summary>
    public static OrtValue ToOrtValue(Tensor tensor) => Stack([tensor], (long[])tensor.Shape.Clone());

    /// <summary>
    /// A new OrtValue over <paramref name="tensor"/>'s own array, pinned until the value is disposed: ONNX Runtime reads
    /// the input where it lies, with no tensor-sized allocation or copy. FP16 (whose CLR type is not ONNX Runtime's),
    /// BYTES and empty tensors are copied (<see cref="ToOrtValue"/>). The caller disposes the value, and nothing may
    /// change the array until then.
    /// </summary>
    public static OrtValue Pin(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Data.Length == 0)
        {
            return ToOrtValue(tensor);
        }

        var shape = (long[])tensor.Shape.Clone();
        return tensor.DataType switch
        {
            TensorDataType.Bool => OrtValue.CreateTensorValueFromMemory(tensor.As<bool>(), shape),
            TensorDataType.UInt8 => OrtValue.CreateTensorValueFromMemory(tensor.As<byte>(), shape),
            TensorDataType.UInt16 => OrtValue.CreateTensorValueFromMemory(tensor.As<ushort>(), shape),
            TensorDataType.UInt32 => OrtValue.CreateTensorValueFromMemory(tensor.As<uint>(), shape),
            TensorDataType.UInt64 => OrtValue.CreateTensorValueFromMemory(tensor.As<ulong>(), shape),
            TensorDataType.Int8 => OrtValue.CreateTensorValueFromMemory(tensor.As<sbyte>(), shape),
            TensorDataType.Int16 => OrtValue.CreateTensorValueFromMemory(tensor.As<short>(), shape),
            TensorDataType.Int32 => OrtValue.CreateTensorValueFromMemory(tensor.As<int>(), shape),
            TensorDataType.Int64 => OrtValue.CreateTensorValueFromMemory(tensor.As<long>(), shape),
            TensorDataType.Fp32 => OrtValue.CreateTensorValueFromMemory(tensor.As<float>(), shape),
            TensorDataType.Fp64 => OrtValue.CreateTensorValueFromMemory(tensor.As<double>(), shape),
            _ => ToOrtValue(tensor),
        };
    }

    /// <summary>
    /// A new OrtValue of <paramref name="shape"/> holding <paramref name="parts"/> one after the other, each copied once
    /// straight into ONNX Runtime's buffer (stacked along the first dimension when the parts share the others). The parts
    /// share one datatype and their elements add up to the shape's, or to fewer: the rest are zeros (empty strings for
    /// BYTES), the padding of a batch run at a larger size. The caller disposes the value.
    /// </summary>
    public static OrtValue Stack(IReadOnlyList<Tensor> parts, long[] shape)
    {
        var type = parts[0].DataType;
        if (type == TensorDataType.Bytes)
        {
            var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
            try
            {
                var index = 0;
                foreach (var part in parts)
                {
                    foreach (var element in part.As<byte[]>())
                    {
                        strings.StringTensorSetElementAt(element.AsSpan(), index++);
                    }
                }

                return strings;
            }
            catch
            {
                strings.Dispose();
                throw;
            }
        }

        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, ToElementType(type), shape);
        try
        {
            CopyRows(parts, value.GetTensorMutableRawData());
            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    /// <summary>
    /// As <see cref="Stack"/>, but into a pooled managed array pinned for the value's life, not into memory ONNX
    /// Runtime allocates: the batcher's inputs. A fresh native buffer per batch is fresh pages, and on a VM every page
    /// of it faults the first time it is written: on the development VM stacking ResNet18 batches into fresh buffers
    /// took 5-151 ms per batch; the pool's arrays stay mapped (on the H200 machine, 0.2-14 ms for up to 32 images).
    /// <paramref name="buffer"/> unpins the array and returns it to the pool, cleared; the caller disposes it after the
    /// value. BYTES tensors (ONNX Runtime's own strings) and empty ones use <see cref="Stack"/>, and
    /// <paramref name="buffer"/> is then null.
    /// </summary>
    public static OrtValue StackPooled(IReadOnlyList<Tensor> parts, long[] shape, out IDisposable? buffer)
    {
        var type = parts[0].DataType;
        var elements = 1L;
        foreach (var dimension in shape)
        {
            elements = checked(elements * dimension);
        }

        if (type == TensorDataType.Bytes || elements == 0 || parts[0].Data.Length == 0)
        {
            buffer = null;
            return Stack(parts, shape);
        }

        var elementSize = RawBytes(parts[0]).Length / parts[0].Data.Length;
        var pooled = new PinnedPooledBytes(checked((int)(elements * elementSize)));
        try
        {
            CopyRows(parts, pooled.Span);
            var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, ToElementType(type), shape, pooled.Address, pooled.Length);
            buffer = pooled;
            return value;
        }
        catch
        {
            pooled.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies the parts' bytes one after another into <paramref name="target"/>. Rows past the parts (a batch padded to
    /// the size it runs at) are zeros, never what the allocator or the pool held.
    /// </summary>
    private static void CopyRows(IReadOnlyList<Tensor> parts, Span<byte> target)
    {
        foreach (var part in parts)
        {
            var bytes = RawBytes(part);
            bytes.CopyTo(target);
            target = target[bytes.Length..];
        }

        target.Clear();
    }

    /// <summary>A protocol tensor copied out of <paramref name="value"/>.</summary>
    public static Tensor FromOrtValue(string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        return Read(name, value, info.ElementDataType, info.Shape, 0, checked((int)info.ElementCount));
    }

    /// <summary>
    /// The rows <paramref name="firstRow"/> to <paramref name="firstRow"/> + <paramref name="rows"/> of <paramref name="value"/>
    /// (whose first dimension counts rows) copied out as a protocol tensor.
    /// </summary>
    public static Tensor FromOrtValueRows(string name, OrtValue value, long firstRow, long rows)
    {
        var info = value.GetTensorTypeAndShape();
        var shape = info.Shape;
        var rowElements = shape[0] == 0 ? 0 : info.ElementCount / shape[0];
        shape[0] = rows;
        return Read(name, value, info.ElementDataType, shape, checked((int)(firstRow * rowElements)), checked((int)(rows * rowElements)));
    }

    private static Tensor Read(string name, OrtValue value, TensorElementType elementType, long[] shape, int start, int count)
    {
        var dataType = ToDataType(elementType)
            ?? throw new NotSupportedException("The model produced an element type the protocol cannot carry.");
        Array data = dataType switch
        {
            TensorDataType.Bool => Copy<bool>(value, start, count),
            TensorDataType.UInt8 => Copy<byte>(value, start, count),
            TensorDataType.UInt16 => Copy<ushort>(value, start, count),
            TensorDataType.UInt32 => Copy<uint>(value, start, count),
            TensorDataType.UInt64 => Copy<ulong>(value, start, count),
            TensorDataType.Int8 => Copy<sbyte>(value, start, count),
            TensorDataType.Int16 => Copy<short>(value, start, count),
            TensorDataType.Int32 => Copy<int>(value, start, count),
            TensorDataType.Int64 => Copy<long>(value, start, count),
            TensorDataType.Fp16 => MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>().Slice(start, count)).ToArray(),
            TensorDataType.Fp32 => Copy<float>(value, start, count),
            TensorDataType.Fp64 => Copy<double>(value, start, count),
            TensorDataType.Bytes => Strings(value, start, count),
            _ => throw new NotSupportedException(),
        };
        return new Tensor(name, dataType, shape, data);
    }

    private static T[] Copy<T>(OrtValue value, int start, int count)
        where T : unmanaged => value.GetTensorDataAsSpan<T>().Slice(start, count).ToArray();

    private static byte[][] Strings(OrtValue value, int start, int count)
    {
        var result = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            result[i] = value.GetStringElementAsSpan(start + i).ToArray();
        }

        return result;
    }

    private static ReadOnlySpan<byte> RawBytes(Tensor tensor) => tensor.DataType switch
    {
        TensorDataType.Bool => MemoryMarshal.AsBytes(tensor.As<bool>().AsSpan()),
        TensorDataType.UInt8 => tensor.As<byte>(),
        TensorDataType.UInt16 => MemoryMarshal.AsBytes(tensor.As<ushort>().AsSpan()),
        TensorDataType.UInt32 => MemoryMarshal.AsBytes(tensor.As<uint>().AsSpan()),
        TensorDataType.UInt64 => MemoryMarshal.AsBytes(tensor.As<ulong>().AsSpan()),
        TensorDataType.Int8 => MemoryMarshal.AsBytes(tensor.As<sbyte>().AsSpan()),
        TensorDataType.Int16 => MemoryMarshal.AsBytes(tensor.As<short>().AsSpan()),
        TensorDataType.Int32 => MemoryMarshal.AsBytes(tensor.As<int>().AsSpan()),
        TensorDataType.Int64 => MemoryMarshal.AsBytes(tensor.As<long>().AsSpan()),
        TensorDataType.Fp16 => MemoryMarshal.AsBytes(tensor.As<Half>().AsSpan()),
        TensorDataType.Fp32 => MemoryMarshal.AsBytes(tensor.As<float>().AsSpan()),
        TensorDataType.Fp64 => MemoryMarshal.AsBytes(tensor.As<double>().AsSpan()),
        _ => throw new ArgumentOutOfRangeException(nameof(tensor)),
    };
}

/// <summary>
/// An array from <see cref="ArrayPool{T}.Shared"/>, pinned until disposed, then returned cleared; one over
/// <see cref="MaxPooledBytes"/> is allocated for this use alone and let go, never kept by the pool (the shared pool keeps
/// arrays up to a gigabyte until a collection trims it, and clearing one costs as much as filling it: a batch of 32
/// requests of 16 MB each was 512 MB held and zeroed per batch; found in review, 2026-12-06).
/// </summary>
internal sealed class PinnedPooledBytes : IDisposable
{
    /// <summary>The largest buffer taken from, and given back to, the shared pool.</summary>
    public const int MaxPooledBytes = 64 * 1024 * 1024;

    private readonly bool _pooled;
    private byte[]? _array;
    private GCHandle _pin;

    public PinnedPooledBytes(int length)
    {
        _pooled = length <= MaxPooledBytes;
        _array = _pooled ? ArrayPool<byte>.Shared.Rent(length) : GC.AllocateUninitializedArray<byte>(length);
        _pin = GCHandle.Alloc(_array, GCHandleType.Pinned);
        Length = length;
    }

    public int Length { get; }

    public IntPtr Address => _pin.AddrOfPinnedObject();

    public Span<byte> Span => _array.AsSpan(0, Length);

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is null)
        {
            return;
        }

        _pin.Free();
        if (_pooled)
        {
            ArrayPool<byte>.Shared.Return(array, clearArray: true);
        }
    }
}
