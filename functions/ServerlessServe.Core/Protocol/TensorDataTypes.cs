using System.Diagnostics.CodeAnalysis;

namespace ServerlessServe.Core.Protocol;

/// <summary>Wire names, element sizes and CLR element types of <see cref="TensorDataType"/>.</summary>
internal static class TensorDataTypes
{
    private static readonly string[] WireNames =
        ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

    /// <summary>The V2 wire name, for example <c>FP32</c>.</summary>
    public static string ToWire(this TensorDataType type) => WireNames[(int)type];

    /// <summary>Bytes per element in the binary encoding; 0 for <see cref="TensorDataType.Bytes"/> (length-prefixed).</summary>
    public static int ElementSize(this TensorDataType type) => type switch
    {
        TensorDataType.Bool or TensorDataType.UInt8 or TensorDataType.Int8 => 1,
        TensorDataType.UInt16 or TensorDataType.Int16 or TensorDataType.Fp16 => 2,
        TensorDataType.UInt32 or TensorDataType.Int32 or TensorDataType.Fp32 => 4,
        TensorDataType.UInt64 or TensorDataType.Int64 or TensorDataType.Fp64 => 8,
        TensorDataType.Bytes => 0,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>
    /// The CLR array element type that holds a tensor of this type in <see cref="Tensor.Data"/>:
    /// bool, byte, ushort, uint, ulong, sbyte, short, int, long, Half, float, double, and byte[] for BYTES.
    /// </summary>
    public static Type ClrElementType(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => typeof(bool),
        TensorDataType.UInt8 => typeof(byte),
        TensorDataType.UInt16 => typeof(ushort),
        TensorDataType.UInt32 => typeof(uint),
        TensorDataType.UInt64 => typeof(ulong),
        TensorDataType.Int8 => typeof(sbyte),
        TensorDataType.Int16 => typeof(short),
        TensorDataType.Int32 => typeof(int),
        TensorDataType.Int64 => typeof(long),
        TensorDataType.Fp16 => typeof(Half),
        TensorDataType.Fp32 => typeof(float),
        TensorDataType.Fp64 => typeof(double),
        TensorDataType.Bytes => typeof(byte[]),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>True for FP16, FP32 and FP64.</summary>
    public static bool IsFloatingPoint(this TensorDataType type) =>
        type is TensorDataType.Fp16 or TensorDataType.Fp32 or TensorDataType.Fp64;

    /// <summary>Throws unless <paramref name="data"/> is a one-dimensional array of the CLR type for <paramref name="type"/>.</summary>
    public static void EnsureDataMatches(TensorDataType type, [NotNull] Array? data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Rank != 1 || data.GetType().GetElementType() != type.ClrElementType())
        {
            throw new ArgumentException($"Tensor data for {type.ToWire()} must be a {type.ClrElementType().Name}[].", nameof(data));
        }
    }
}
