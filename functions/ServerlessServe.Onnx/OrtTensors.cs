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
    public static OrtValue ToOrtValue(Tensor tensor)
    {
        var shape = (long[])tensor.Shape.Clone();
        if (tensor.DataType == TensorDataType.Bytes)
        {
            var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, shape);
            try
            {
                var elements = tensor.As<byte[]>();
                for (var i = 0; i < elements.Length; i++)
                {
                    strings.StringTensorSetElementAt(elements[i].AsSpan(), i);
                }

                return strings;
            }
            catch
            {
                strings.Dispose();
                throw;
            }
        }

        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, ToElementType(tensor.DataType), shape);
        try
        {
            RawBytes(tensor).CopyTo(value.GetTensorMutableRawData());
            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    /// <summary>A protocol tensor copied out of <paramref name="value"/>.</summary>
    public static Tensor FromOrtValue(string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        var dataType = ToDataType(info.ElementDataType)
            ?? throw new NotSupportedException("The model produced an element type the protocol cannot carry.");
        var shape = info.Shape;
        var count = checked((int)info.ElementCount);
        Array data = dataType switch
        {
            TensorDataType.Bool => Copy<bool>(value),
            TensorDataType.UInt8 => Copy<byte>(value),
            TensorDataType.UInt16 => Copy<ushort>(value),
            TensorDataType.UInt32 => Copy<uint>(value),
            TensorDataType.UInt64 => Copy<ulong>(value),
            TensorDataType.Int8 => Copy<sbyte>(value),
            TensorDataType.Int16 => Copy<short>(value),
            TensorDataType.Int32 => Copy<int>(value),
            TensorDataType.Int64 => Copy<long>(value),
            TensorDataType.Fp16 => MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>()).ToArray(),
            TensorDataType.Fp32 => Copy<float>(value),
            TensorDataType.Fp64 => Copy<double>(value),
            TensorDataType.Bytes => Strings(value, count),
            _ => throw new NotSupportedException(),
        };
        return new Tensor(name, dataType, shape, data);
    }

    private static T[] Copy<T>(OrtValue value)
        where T : unmanaged => value.GetTensorDataAsSpan<T>().ToArray();

    private static byte[][] Strings(OrtValue value, int count)
    {
        var result = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            result[i] = value.GetStringElementAsSpan(i).ToArray();
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
