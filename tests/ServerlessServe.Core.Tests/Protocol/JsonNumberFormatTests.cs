using System.Globalization;
using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// The JSON number writer (<see cref="JsonNumberFormat"/>) against .NET's own formatting, byte for byte: every float of
/// a stride across all 2^32 bit patterns (all of them with <c>SERVERLESSSERVE_EXHAUSTIVE_FORMAT=1</c>, about 80 s on
/// two cores), whole binades, random doubles of every kind with their neighbours, and the boundaries; that
/// its own path decides exactly the range it claims; and that a response's floating-point data is written in the same
/// bytes as number by number with <see cref="System.Text.Json.Utf8JsonWriter"/>.
/// </summary>
public class JsonNumberFormatTests
{
    // Magnitudes the writer's own path decides: floats from 2^-61 up to (not including) 2^24, doubles from 2^-32 up to
    // 2^53, and zero. Below, 5^i no longer fits 64 bits; above, the value is an integer with no fraction to scale.
    private const int SingleLowestBiased = 66;
    private const int SingleHighestBiased = 150;
    private const int DoubleLowestBiased = 991;
    private const int DoubleHighestBiased = 1075;

    /// <summary>Every float, and a hundred times the random doubles: <c>SERVERLESSSERVE_EXHAUSTIVE_FORMAT=1</c>.</summary>
    private static readonly bool Exhaustive = Environment.GetEnvironmentVariable("SERVERLESSSERVE_EXHAUSTIVE_FORMAT") == "1";

    [Fact]
    public void FloatsAcrossAllBitPatterns_SameBytesAsDotNet_DecidedExactlyInRange()
    {
        var stride = Exhaustive ? 1u : 251u;
        long checkedCount = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Parallel.For(0, 256, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, top =>
        {
            var ours = new byte[JsonNumberFormat.Room];
            var dotnet = new byte[64];
            long count = 0;
            for (var low = (uint)top % stride; low < (1u << 24); low += stride)
            {
                var bits = ((uint)top << 24) | low;
                var value = BitConverter.UInt32BitsToSingle(bits);
                if (!float.IsFinite(value))
                {
                    continue;
                }

                count++;
                var biased = (int)(bits >> 23) & 0xFF;
                var inRange = (biased >= SingleLowestBiased && biased <= SingleHighestBiased) || (bits & 0x7FFF_FFFF) == 0;
                var decided = JsonNumberFormat.TryFormatSingle(value, ours, out var written);
                if (decided != inRange)
                {
                    failures.Enqueue($"{bits:X8}: decided {decided}");
                    continue;
                }

                if (decided && !SameAsDotNet(value, ours.AsSpan(0, written), dotnet))
                {
                    failures.Enqueue($"{bits:X8}: {Encoding.ASCII.GetString(ours, 0, written)}");
                }
            }

            Interlocked.Add(ref checkedCount, count);
        });

        Assert.Empty(failures.Take(10));
        Assert.True(checkedCount > (Exhaustive ? 4_000_000_000 : 16_000_000), $"{checkedCount} checked");
    }

    [Theory]
    [InlineData(0x3F80_0000u)] // [1, 2)
    [InlineData(0x3D80_0000u)] // [1/16, 1/8)
    [InlineData(0xBF00_0000u)] // (-1, -0.5]
    public void EveryFloatOfABinade_SameBytesAsDotNet(uint first)
    {
        var ours = new byte[JsonNumberFormat.Room];
        var dotnet = new byte[64];
        for (var bits = first; bits < first + (1u << 23); bits++)
        {
            var value = BitConverter.UInt32BitsToSingle(bits);
            Assert.True(JsonNumberFormat.TryFormatSingle(value, ours, out var written));
            if (!SameAsDotNet(value, ours.AsSpan(0, written), dotnet))
            {
                Assert.Fail($"{bits:X8}: {Encoding.ASCII.GetString(ours, 0, written)}");
            }
        }
    }

    [Fact]
    public void RandomDoubles_WithNeighbours_SameBytesAsDotNet_DecidedExactlyInRange()
    {
        var random = new Random(1401);
        var ours = new byte[JsonNumberFormat.Room];
        var dotnet = new byte[64];
        long decidedCount = 0;
        var rounds = Exhaustive ? 40_000_000 : 400_000;
        for (var k = 0; k < rounds; k++)
        {
            var bits = (k % 4) switch
            {
                // Any bit pattern.
                0 => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63),

                // In the range, any significand.
                1 => ((ulong)random.Next(DoubleLowestBiased - 4, DoubleHighestBiased + 5) << 52) | ((ulong)random.NextInt64() & 0xF_FFFF_FFFF_FFFF),

                // Short decimals, as values written by hand or rounded by a model come.
                2 => BitConverter.DoubleToUInt64Bits(Math.Round(random.NextDouble() * Math.Pow(10, random.Next(1, 16))) / Math.Pow(10, random.Next(0, 16))),

                // Few significand bits: exact values, ties and bounds that are integers at the scale.
                _ => ((ulong)random.Next(DoubleLowestBiased - 4, DoubleHighestBiased + 5) << 52) | ((ulong)random.Next(0, 1 << 20) << random.Next(0, 33)),
            };

            for (var delta = -1; delta <= 1; delta++)
            {
                var neighbour = bits + (ulong)delta;
                var value = BitConverter.UInt64BitsToDouble(neighbour);
                if (!double.IsFinite(value))
                {
                    continue;
                }

                var biased = (int)(neighbour >> 52) & 0x7FF;
                var inRange = (biased >= DoubleLowestBiased && biased <= DoubleHighestBiased) || (neighbour & long.MaxValue) == 0;
                var decided = JsonNumberFormat.TryFormatDouble(value, ours, out var written);
                Assert.True(decided == inRange, $"{neighbour:X16}: decided {decided}");
                if (decided)
                {
                    decidedCount++;
                    value.TryFormat(dotnet, out var expected, default, CultureInfo.InvariantCulture);
                    if (!ours.AsSpan(0, written).SequenceEqual(dotnet.AsSpan(0, expected))
                        && Encoding.ASCII.GetString(ours, 0, written) != ExpectedDouble(value))
                    {
                        Assert.Fail($"{neighbour:X16}: {Encoding.ASCII.GetString(ours, 0, written)} against {Encoding.ASCII.GetString(dotnet, 0, expected)}");
                    }
                }
            }
        }

        Assert.True(decidedCount > 500_000, $"{decidedCount} decided");
    }

    public static TheoryData<double> Boundaries()
    {
        var values = new List<double>
        {
            0.0, -0.0, 1, -1, 0.1, 0.2, 0.3, 1e-4, 9.999999e-5, 1e-5, 1e-323, double.Epsilon, double.MaxValue, double.MinValue,
            2.2250738585072014E-308, 2.225073858507201E-308, 1e15, 1e16, 123456789012345.67, 4503599627370495.5,
            0.30000000000000004, 1.7976931348623157E+308,
        };

        // Every power of two the writer decides, and just outside: the interval below each is half as wide.
        for (var e = -70; e <= 60; e++)
        {
            var power = Math.ScaleB(1.0, e);
            values.Add(power);
            values.Add(Math.BitDecrement(power));
            values.Add(Math.BitIncrement(power));
        }

        return [.. values.DistinctBy(BitConverter.DoubleToInt64Bits)];
    }

    [Theory]
    [MemberData(nameof(Boundaries))]
    public void Boundaries_BothWidths_SameBytesAsDotNet(double value)
    {
        var ours = new byte[JsonNumberFormat.Room];
        var dotnet = new byte[64];

        var written = JsonNumberFormat.FormatDouble(value, ours);
        Assert.Equal(ExpectedDouble(value), Encoding.ASCII.GetString(ours, 0, written));
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(double.Parse(ours.AsSpan(0, written), CultureInfo.InvariantCulture)));

        var single = (float)value;
        if (float.IsFinite(single))
        {
            written = JsonNumberFormat.FormatSingle(single, ours);
            single.TryFormat(dotnet, out var expected, default, CultureInfo.InvariantCulture);
            Assert.Equal(Encoding.ASCII.GetString(dotnet, 0, expected), Encoding.ASCII.GetString(ours, 0, written));
        }
    }

    [Theory]
    [InlineData(-25, "2.9802322387695312E-08", "2.980232238769531E-08")]
    [InlineData(-958, "4.1045368012983762E-289", "4.104536801298376E-289")]
    public void PowersOfTwoDotNetWritesWrongly_WrittenSoTheyReadBack(int power, string written, string dotnetWrites)
    {
        // .NET's shortest form of these two lies below the value by more than half the (narrower) gap to the double
        // below, so it reads back as that double; the writer's own path (2^-25) and its fallback (2^-958) both avoid it.
        var value = Math.ScaleB(1.0, power);
        Assert.Equal(dotnetWrites, value.ToString(CultureInfo.InvariantCulture));
        Assert.NotEqual(value, double.Parse(dotnetWrites, CultureInfo.InvariantCulture));

        var buffer = new byte[JsonNumberFormat.Room];
        var length = JsonNumberFormat.FormatDouble(value, buffer);
        Assert.Equal(written, Encoding.ASCII.GetString(buffer, 0, length));
        Assert.Equal(value, double.Parse(written, CultureInfo.InvariantCulture));

        var response = new InferenceResponse { ModelName = "m", Outputs = [new Tensor("y", TensorDataType.Fp64, [2], new[] { value, -value })] };
        var encoded = V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null);
        Assert.Contains($"[{written},-{written}]", Encoding.UTF8.GetString(encoded.Body), StringComparison.Ordinal);
        Assert.Equal(new[] { value, -value }, V2Json.ReadResponse(encoded.Body, null, new ProtocolLimits()).Outputs[0].As<double>());
    }

    [Fact]
    public void ImageOutputs_AllDecidedByTheWriter()
    {
        var random = new Random(1402);
        var buffer = new byte[JsonNumberFormat.Room];
        for (var k = 0; k < 200_000; k++)
        {
            var value = (random.NextSingle() * 6f) - 3f;
            Assert.True(JsonNumberFormat.TryFormatSingle(value, buffer, out _));
            Assert.True(JsonNumberFormat.TryFormatDouble(value, buffer, out _));
        }
    }

    [Fact]
    public void ShortDestination_FormattedByDotNet_AndTooShortRefused()
    {
        var exact = new byte[10];
        Assert.Equal(10, JsonNumberFormat.FormatSingle(0.12345678f, exact));
        Assert.Equal("0.12345678", Encoding.ASCII.GetString(exact));

        Assert.Throws<ArgumentException>(() => JsonNumberFormat.FormatDouble(0.1234567890123, new byte[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => JsonNumberFormat.TryFormatSingle(1f, new byte[JsonNumberFormat.Room - 1], out _));
    }

    [Fact]
    public void EightDigits_EveryThirdValue_AsciiWithLeadingZeros()
    {
        Span<byte> expected = stackalloc byte[8];
        for (uint value = 0; value < 100_000_000; value += 3)
        {
            var word = JsonNumberFormat.EightDigits(value);
            var rest = value;
            for (var k = 7; k >= 0; k--)
            {
                expected[k] = (byte)('0' + (rest % 10));
                rest /= 10;
            }

            if (BitConverter.ToUInt64(expected) != word)
            {
                Assert.Fail($"{value}: {word:X16}");
            }
        }
    }

    [Fact]
    public void WriteResponse_FloatingPointData_SameBytesAsNumberByNumber()
    {
        var random = new Random(1403);
        float[] specials = [0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, 1e-45f, 1.17549435E-38f, 16777216f, 1e-5f, 1e-4f, 123456780f, 1e9f];
        for (var round = 0; round < 200; round++)
        {
            var count = random.Next(0, 600);
            var singles = new float[count];
            var doubles = new double[count];
            var halves = new Half[count];
            for (var k = 0; k < count; k++)
            {
                var pick = random.Next(6);
                singles[k] = pick switch
                {
                    0 => specials[random.Next(specials.Length)],
                    1 => BitConverter.Int32BitsToSingle(random.Next() & 0x7F7F_FFFF) * (random.Next(2) == 0 ? 1 : -1),
                    _ => (random.NextSingle() * 8f) - 4f,
                };
                doubles[k] = pick switch
                {
                    0 => singles[k],
                    1 => BitConverter.Int64BitsToDouble(random.NextInt64() & 0x7FEF_FFFF_FFFF_FFFF) * (random.Next(2) == 0 ? 1 : -1),
                    _ => (random.NextDouble() * 8) - 4,
                };
                halves[k] = float.IsFinite((float)(Half)singles[k]) ? (Half)singles[k] : Half.MaxValue;
            }

            var response = new InferenceResponse
            {
                ModelName = "m",
                Outputs =
                [
                    new Tensor("s", TensorDataType.Fp32, [count], singles),
                    new Tensor("d", TensorDataType.Fp64, [count], doubles),
                    new Tensor("h", TensorDataType.Fp16, [count], halves),
                ],
            };

            var whole = V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null);
            var byElement = WriteByElement(response);
            Assert.Equal(Encoding.UTF8.GetString(byElement.Body), Encoding.UTF8.GetString(whole.Body));
            Assert.Null(whole.HeaderLength);
        }
    }

    [Fact]
    public void Integers_PowersOfTenAndLimits_SameBytesAsDotNet()
    {
        var values = new List<(bool Negative, ulong Magnitude)> { (false, 0), (false, ulong.MaxValue), (true, 1ul << 63), (false, long.MaxValue) };
        for (ulong power = 1, k = 0; k < 20; k++, power *= 10)
        {
            foreach (var magnitude in new[] { power - 1, power, power + 1 })
            {
                values.Add((false, magnitude));
                values.Add((true, magnitude));
            }
        }

        for (var k = 0; k < 70_000; k++)
        {
            values.Add((k < 0 || k % 2 == 1, (ulong)k));
        }

        var buffer = new byte[JsonNumberFormat.Room];
        foreach (var (negative, magnitude) in values)
        {
            var expected = (negative && magnitude != 0 ? "-" : string.Empty) + magnitude.ToString(CultureInfo.InvariantCulture);
            var written = JsonNumberFormat.FormatInteger(negative && magnitude != 0, magnitude, buffer);
            Assert.Equal(expected, Encoding.ASCII.GetString(buffer, 0, written));
        }

        var exact = new byte[3];
        Assert.Equal(3, JsonNumberFormat.FormatInteger(true, 42, exact));
        Assert.Equal("-42", Encoding.ASCII.GetString(exact));
        Assert.Throws<ArgumentException>(() => JsonNumberFormat.FormatInteger(false, 123, new byte[2]));
    }

    [Fact]
    public void WriteResponse_IntegerData_EveryType_SameBytesAsNumberByNumber()
    {
        var random = new Random(1404);
        for (var round = 0; round < 100; round++)
        {
            var count = random.Next(0, 400);
            long Pick(long min, long max) => random.Next(4) switch
            {
                0 => min,
                1 => max,
                2 => random.Next(-1000, 1000) is var small && small >= min && small <= max ? small : 0,
                _ => min + (long)(random.NextDouble() * ((double)max - min)),
            };

            ulong PickUnsigned(ulong max) => random.Next(3) switch
            {
                0 => max,
                1 => (ulong)random.Next(0, 1000) % (max + 1 == 0 ? ulong.MaxValue : max + 1),
                _ => (ulong)(random.NextDouble() * max),
            };

            var response = new InferenceResponse
            {
                ModelName = "m",
                Outputs =
                [
                    new Tensor("u8", TensorDataType.UInt8, [count], Enumerable.Range(0, count).Select(_ => (byte)PickUnsigned(byte.MaxValue)).ToArray()),
                    new Tensor("u16", TensorDataType.UInt16, [count], Enumerable.Range(0, count).Select(_ => (ushort)PickUnsigned(ushort.MaxValue)).ToArray()),
                    new Tensor("u32", TensorDataType.UInt32, [count], Enumerable.Range(0, count).Select(_ => (uint)PickUnsigned(uint.MaxValue)).ToArray()),
                    new Tensor("u64", TensorDataType.UInt64, [count], Enumerable.Range(0, count).Select(_ => PickUnsigned(ulong.MaxValue)).ToArray()),
                    new Tensor("i8", TensorDataType.Int8, [count], Enumerable.Range(0, count).Select(_ => (sbyte)Pick(sbyte.MinValue, sbyte.MaxValue)).ToArray()),
                    new Tensor("i16", TensorDataType.Int16, [count], Enumerable.Range(0, count).Select(_ => (short)Pick(short.MinValue, short.MaxValue)).ToArray()),
                    new Tensor("i32", TensorDataType.Int32, [count], Enumerable.Range(0, count).Select(_ => (int)Pick(int.MinValue, int.MaxValue)).ToArray()),
                    new Tensor("i64", TensorDataType.Int64, [count], Enumerable.Range(0, count).Select(_ => Pick(long.MinValue, long.MaxValue)).ToArray()),
                ],
            };

            var whole = V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null);
            Assert.Equal(Encoding.UTF8.GetString(WriteByElement(response).Body), Encoding.UTF8.GetString(whole.Body));
        }
    }

    [Theory]
    [InlineData(TensorDataType.Fp32)]
    [InlineData(TensorDataType.Fp64)]
    [InlineData(TensorDataType.Fp16)]
    public void WriteResponse_NonFiniteAfterFiniteValues_SameRefusalAsNumberByNumber(TensorDataType type)
    {
        Array data = type switch
        {
            TensorDataType.Fp32 => new[] { 1f, 2.5f, float.NegativeInfinity },
            TensorDataType.Fp64 => new[] { 1d, 2.5d, double.NaN },
            _ => new[] { (Half)1, (Half)2.5f, Half.PositiveInfinity },
        };
        var response = new InferenceResponse { ModelName = "m", Outputs = [new Tensor("ok", TensorDataType.Int32, [1], new[] { 1 }), new Tensor("y", type, [3], data)] };

        var whole = Assert.Throws<RefusedException>(() => V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null));
        var byElement = Assert.Throws<RefusedException>(() => WriteByElement(response));
        Assert.Equal(RefusalKind.Failed, whole.Kind);
        Assert.Equal(byElement.Message, whole.Message);
        Assert.Contains("output 1 ", whole.Message, StringComparison.Ordinal);
    }

    private static EncodedBody WriteByElement(InferenceResponse response)
    {
        V2BodyWriter.NumbersByElement = true;
        try
        {
            return V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null);
        }
        finally
        {
            V2BodyWriter.NumbersByElement = false;
        }
    }

    /// <summary>.NET's shortest form, or its 17 digits where the shortest does not read back (two powers of two).</summary>
    private static string ExpectedDouble(double value)
    {
        var shortest = value.ToString(CultureInfo.InvariantCulture);
        var back = double.Parse(shortest, CultureInfo.InvariantCulture);
        return BitConverter.DoubleToInt64Bits(back) == BitConverter.DoubleToInt64Bits(value) ? shortest : value.ToString("G17", CultureInfo.InvariantCulture);
    }

    private static bool SameAsDotNet(float value, ReadOnlySpan<byte> ours, byte[] scratch)
    {
        value.TryFormat(scratch, out var written, default, CultureInfo.InvariantCulture);
        return ours.SequenceEqual(scratch.AsSpan(0, written));
    }
}
