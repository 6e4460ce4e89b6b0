using System.Numerics;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Validation;

/// <summary>
/// Per-element checks of one input: floating-point values finite, numeric values within the policy's inclusive
/// bounds, BYTES elements within the policy's length. Bounds are converted once into the element type so that the
/// scan is a SIMD compare over the typed array, with no per-element conversion.
/// </summary>
internal static class ElementChecks
{
    public static void Check(Tensor tensor, string declaredName, InputRule? rule)
    {
        var min = rule?.Min ?? double.NegativeInfinity;
        var max = rule?.Max ?? double.PositiveInfinity;
        var hasRange = rule?.Min is not null || rule?.Max is not null;
        // By datatype, not by runtime type: the CLR lets an int[] pass as a uint[] (and sbyte[] as byte[], ...).
        var data = tensor.Data;
        switch (tensor.DataType)
        {
            case TensorDataType.Fp32:
                CheckFloats((float[])data, FloatBound(min, up: true), FloatBound(max, up: false), declaredName);
                break;
            case TensorDataType.Fp64:
                CheckFloats((double[])data, Math.Max(min, -double.MaxValue), Math.Min(max, double.MaxValue), declaredName);
                break;
            case TensorDataType.Fp16:
                CheckHalves((Half[])data, FloatBound(min, up: true), FloatBound(max, up: false), declaredName);
                break;
            case TensorDataType.Bytes:
                CheckLengths((byte[][])data, rule?.MaxBytesLength, declaredName);
                break;
            case TensorDataType.Bool:
                break;
            case TensorDataType.UInt8 when hasRange: CheckIntegers((byte[])data, min, max, declaredName); break;
            case TensorDataType.UInt16 when hasRange: CheckIntegers((ushort[])data, min, max, declaredName); break;
            case TensorDataType.UInt32 when hasRange: CheckIntegers((uint[])data, min, max, declaredName); break;
            case TensorDataType.UInt64 when hasRange: CheckIntegers((ulong[])data, min, max, declaredName); break;
            case TensorDataType.Int8 when hasRange: CheckIntegers((sbyte[])data, min, max, declaredName); break;
            case TensorDataType.Int16 when hasRange: CheckIntegers((short[])data, min, max, declaredName); break;
            case TensorDataType.Int32 when hasRange: CheckIntegers((int[])data, min, max, declaredName); break;
            case TensorDataType.Int64 when hasRange: CheckIntegers((long[])data, min, max, declaredName); break;
        }
    }

    private static void CheckIntegers<T>(T[] values, double min, double max, string name)
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        var lo = Math.Ceiling(min);
        var hi = Math.Floor(max);
        var typeMin = double.CreateTruncating(T.MinValue);
        var typeMax = double.CreateTruncating(T.MaxValue);
        if (values.Length > 0 && (lo > typeMax || hi < typeMin || lo > hi))
        {
            throw OutOfRange(name);
        }

        if (FirstOutside<T>(values, T.CreateSaturating(Math.Max(lo, typeMin)), T.CreateSaturating(Math.Min(hi, typeMax))) >= 0)
        {
            throw OutOfRange(name);
        }
    }

    /// <summary><paramref name="lo"/> and <paramref name="hi"/> are finite, so NaN and infinities fall outside too.</summary>
    private static void CheckFloats<T>(T[] values, T lo, T hi, string name)
        where T : struct, IFloatingPointIeee754<T>
    {
        var index = FirstOutside<T>(values, lo, hi);
        if (index >= 0)
        {
            throw T.IsFinite(values[index]) ? OutOfRange(name) : NotFinite(name);
        }
    }

    private static void CheckHalves(Half[] values, float lo, float hi, string name)
    {
        foreach (var half in values)
        {
            var value = (float)half;
            if (!(value >= lo && value <= hi))
            {
                throw Half.IsFinite(half) ? OutOfRange(name) : NotFinite(name);
            }
        }
    }

    private static void CheckLengths(byte[][] values, int? maxLength, string name)
    {
        if (maxLength is not { } limit)
        {
            return;
        }

        foreach (var value in values)
        {
            if (value.Length > limit)
            {
                throw RefusedException.Invalid($"input '{name}': an element is longer than the policy allows");
            }
        }
    }

    /// <summary>The index of the first value not in [<paramref name="lo"/>, <paramref name="hi"/>] (NaN included), or -1.</summary>
    private static int FirstOutside<T>(ReadOnlySpan<T> values, T lo, T hi)
        where T : struct, INumber<T>
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && values.Length >= Vector<T>.Count)
        {
            var low = new Vector<T>(lo);
            var high = new Vector<T>(hi);
            for (; i <= values.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var v = new Vector<T>(values[i..]);
                if (!Vector.GreaterThanOrEqualAll(v, low) || !Vector.LessThanOrEqualAll(v, high))
                {
                    break;
                }
            }
        }

        for (; i < values.Length; i++)
        {
            if (!(values[i] >= lo && values[i] <= hi))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// The float bound equivalent to a double bound for float values: rounded inwards so that, for any float x,
    /// x &gt;= result exactly when x &gt;= bound (lower, <paramref name="up"/>), and clamped to finite floats.
    /// </summary>
    private static float FloatBound(double bound, bool up)
    {
        var f = (float)bound;
        if (up && f < bound)
        {
            f = MathF.BitIncrement(f);
        }
        else if (!up && f > bound)
        {
            f = MathF.BitDecrement(f);
        }

        return Math.Clamp(f, -float.MaxValue, float.MaxValue);
    }

    private static RefusedException OutOfRange(string name) =>
        RefusedException.Invalid($"input '{name}': a value is outside the range the policy allows");

    private static RefusedException NotFinite(string name) =>
        RefusedException.Invalid($"input '{name}': values must be finite (no NaN or infinity)");
}
