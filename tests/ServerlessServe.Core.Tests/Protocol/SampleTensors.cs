using System.Text;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>One tensor per V2 datatype with edge values (type extremes, fractions, escapes, empty strings).</summary>
internal static class SampleTensors
{
    public static Tensor For(TensorDataType type, string name = "t") => type switch
    {
        TensorDataType.Bool => new Tensor(name, type, [2, 2], new[] { true, false, false, true }),
        TensorDataType.UInt8 => new Tensor(name, type, [3], new byte[] { 0, 7, byte.MaxValue }),
        TensorDataType.UInt16 => new Tensor(name, type, [3], new ushort[] { 0, 300, ushort.MaxValue }),
        TensorDataType.UInt32 => new Tensor(name, type, [3], new uint[] { 0, 70000, uint.MaxValue }),
        TensorDataType.UInt64 => new Tensor(name, type, [3], new ulong[] { 0, 5_000_000_000, ulong.MaxValue }),
        TensorDataType.Int8 => new Tensor(name, type, [3], new sbyte[] { sbyte.MinValue, 0, sbyte.MaxValue }),
        TensorDataType.Int16 => new Tensor(name, type, [3], new short[] { short.MinValue, -1, short.MaxValue }),
        TensorDataType.Int32 => new Tensor(name, type, [3], new[] { int.MinValue, 42, int.MaxValue }),
        TensorDataType.Int64 => new Tensor(name, type, [3], new[] { long.MinValue, -42, long.MaxValue }),
        TensorDataType.Fp16 => new Tensor(name, type, [4], new[] { (Half)(-1.5f), Half.MaxValue, (Half)0.1f, Half.Epsilon }),
        TensorDataType.Fp32 => new Tensor(name, type, [2, 2], new[] { 1.5f, -3.25e-8f, float.MaxValue, float.Epsilon }),
        TensorDataType.Fp64 => new Tensor(name, type, [1, 3], new[] { Math.PI, -double.MaxValue, double.Epsilon }),
        TensorDataType.Bytes => new Tensor(name, type, [4], new[]
        {
            "hello"u8.ToArray(), Array.Empty<byte>(), Encoding.UTF8.GetBytes("ünï \"quoted\" \\ <tag> 😀"), "x"u8.ToArray(),
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static IEnumerable<TensorDataType> AllTypes => Enum.GetValues<TensorDataType>();
}
