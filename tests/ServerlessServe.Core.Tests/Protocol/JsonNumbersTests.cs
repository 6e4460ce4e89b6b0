using System.Globalization;
using System.Numerics;
using System.Text;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// The fast JSON number conversion (<see cref="JsonNumbers"/>) against .NET's exact parser: whenever it answers, its
/// double and float are bit for bit the ones .NET gives, over millions of numbers written the ways clients write them,
/// random decimals across the whole exponent range, and exact ties; and it answers for nearly all of a tensor's numbers.
/// </summary>
public class JsonNumbersTests
{
    private const int Cases = 200_000;

    [Fact]
    public void RandomDoubles_ShortestAnd17Digits_SameAsDotNet_AndDecided()
    {
        var random = new Random(1301);
        var checker = new Checker();
        for (var i = 0; i < Cases; i++)
        {
            var d = BitConverter.Int64BitsToDouble(random.NextInt64() & long.MaxValue) * (random.Next(2) == 0 ? 1 : -1);
            if (!double.IsFinite(d))
            {
                continue;
            }

            checker.Check(d.ToString("R", CultureInfo.InvariantCulture));
            checker.Check(d.ToString("E16", CultureInfo.InvariantCulture));
            checker.Check(d.ToString("E18", CultureInfo.InvariantCulture));
        }

        // Declined: subnormal results (about 1 in 2,000 of random bit patterns) and the rare undecidable carry.
        Assert.True(checker.DoublesDecided > 0.99 * checker.Count, $"decided {checker.DoublesDecided} of {checker.Count}");
    }

    [Fact]
    public void RandomFloats_ShortestAndAsPythonWritesThem_SameAsDotNet_AndDecided()
    {
        var random = new Random(1302);
        var checker = new Checker();
        for (var i = 0; i < Cases; i++)
        {
            var f = BitConverter.Int32BitsToSingle(random.Next() & int.MaxValue) * (random.Next(2) == 0 ? 1 : -1);
            if (!float.IsFinite(f) || float.IsSubnormal(f))
            {
                continue;
            }

            checker.Check(f.ToString("R", CultureInfo.InvariantCulture));

            // tritonclient's JSON: numpy's float32 made a Python float by tolist(), written by json.dumps (repr).
            checker.Check(((double)f).ToString("R", CultureInfo.InvariantCulture));
        }

        Assert.True(checker.SinglesDecided > 0.999 * checker.Count, $"decided {checker.SinglesDecided} of {checker.Count}");
    }

    [Fact]
    public void ImagePixels_AllDecided()
    {
        // A normalised image's values, as both JSON writers write them: none should need .NET's parser.
        var random = new Random(1303);
        var checker = new Checker();
        for (var i = 0; i < Cases; i++)
        {
            var pixel = (random.NextSingle() * 4.7f) - 2.1f;
            checker.Check(pixel.ToString("R", CultureInfo.InvariantCulture));
            checker.Check(((double)pixel).ToString("R", CultureInfo.InvariantCulture));
        }

        Assert.Equal(checker.Count, checker.SinglesDecided);
        Assert.Equal(checker.Count, checker.DoublesDecided);
    }

    [Fact]
    public void RandomDecimals_AnyDigitsAndExponent_SameAsDotNet()
    {
        var random = new Random(1304);
        var checker = new Checker();
        var digits = new StringBuilder();
        for (var i = 0; i < Cases; i++)
        {
            digits.Clear();
            var count = random.Next(1, 22);
            for (var j = 0; j < count; j++)
            {
                digits.Append((char)('0' + random.Next(10)));
            }

            checker.Check(Scientific(random.Next(2) == 0, digits.ToString(), random.Next(-360, 330)));

            // The same digits as a plain decimal, the point anywhere.
            var point = random.Next(1, count + 1);
            var integer = digits.ToString(0, point).TrimStart('0');
            var text = (integer.Length == 0 ? "0" : integer) + (point < count ? "." + digits.ToString(point, count - point) : "");
            checker.Check(text);
        }

        // Declined by design: more than 19 digits (2 of every 21 lengths) and exponents past the normal range.
        Assert.True(checker.DoublesDecided > 0.8 * checker.Count, $"decided {checker.DoublesDecided} of {checker.Count}");
    }

    [Fact]
    public void ExactTiesAndTheirNeighbours_SameAsDotNet()
    {
        // Exactly halfway between two doubles: (2^53 + odd) × 2^s, written exactly. Ties go to the even mantissa, the
        // numbers a last digit above or below them go to the nearer one.
        var random = new Random(1305);
        var checker = new Checker();
        for (var i = 0; i < 20_000; i++)
        {
            var odd = (BigInteger)((1L << 53) + (random.NextInt64(1L << 52) * 2) + 1);
            checker.CheckExactAndNeighbours(odd, random.Next(-4, 10));

            // Exactly halfway between two floats: (2^24 + odd) × 2^s.
            var oddSingle = (BigInteger)((1 << 24) + (random.Next(1 << 23) * 2) + 1);
            checker.CheckExactAndNeighbours(oddSingle, random.Next(-40, 40));
        }

        Assert.True(checker.Count > 100_000);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0")]
    [InlineData("-0.0")]
    [InlineData("0e400")]
    [InlineData("-0.000e-12")]
    [InlineData("1")]
    [InlineData("-1.5")]
    [InlineData("0.1")]
    [InlineData("0.30000000000000004")]
    [InlineData("9007199254740992")]
    [InlineData("9007199254740993")]
    [InlineData("9007199254740994")]
    [InlineData("9007199254740995")]
    [InlineData("18446744073709551615")]
    [InlineData("9999999999999999999")]
    [InlineData("1e22")]
    [InlineData("1e23")]
    [InlineData("8.988465674311579e307")]
    [InlineData("1.7976931348623157e308")]
    [InlineData("1.7976931348623158e308")]
    [InlineData("1.7976931348623159e308")]
    [InlineData("1e309")]
    [InlineData("2.2250738585072014e-308")]
    [InlineData("2.2250738585072011e-308")]
    [InlineData("4.9e-324")]
    [InlineData("2.4703282292062327e-324")]
    [InlineData("1e-400")]
    [InlineData("1E+2")]
    [InlineData("1e-99999999999")]
    [InlineData("1e99999999999")]
    [InlineData("3.4028234663852886e38")]
    [InlineData("3.4028235e38")]
    [InlineData("3.4028235677973366e38")]
    [InlineData("3.4028236e38")]
    [InlineData("1.1754943508222875e-38")]
    [InlineData("1.401298464324817e-45")]
    [InlineData("7.006492321624085e-46")]
    [InlineData("0.10000000149011612")]
    [InlineData("16777217")]
    [InlineData("16777219")]
    [InlineData("0.1000000000000000055511151231257827021181583404541015625")]
    [InlineData("15828781656352337.000")]
    [InlineData("275223515653727469568.0")]
    [InlineData("12345678901234567890000")]
    [InlineData("12345678901234567891")]
    [InlineData("1234567890123456789.00000000001")]
    public void Boundaries_SameAsDotNet(string text)
    {
        new Checker().Check(text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("1x")]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    public void NotAJsonNumber_Declined(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);

        Assert.False(JsonNumbers.TryParseDouble(bytes, out _));
        Assert.False(JsonNumbers.TryParseSingle(bytes, out _));
    }

    [Fact]
    public void TensorData_Fp32Fp64Fp16_FromPythonDigits_AreDotNetsValues()
    {
        // Through the request reader: each element is what .NET's exact parser makes of its token.
        var random = new Random(1306);
        var numbers = Enumerable.Range(0, 2_000)
            .Select(_ => ((double)((random.NextSingle() * 200f) - 100f)).ToString("R", CultureInfo.InvariantCulture))
            .Concat(["0.1", "-0", "1e-40", "65519.99", "3.4028235e38", "123456789012345678901234567890"])
            .ToArray();
        var data = string.Join(',', numbers);
        var json = "{\"inputs\":["
            + $"{{\"name\":\"a\",\"shape\":[{numbers.Length}],\"datatype\":\"FP32\",\"data\":[{data}]}},"
            + $"{{\"name\":\"b\",\"shape\":[{numbers.Length}],\"datatype\":\"FP64\",\"data\":[{data}]}},"
            + $"{{\"name\":\"c\",\"shape\":[{numbers.Length - 2}],\"datatype\":\"FP16\",\"data\":[{string.Join(',', numbers[..^2])}]}}]}}";

        var request = V2Json.ReadRequest(Encoding.UTF8.GetBytes(json), null, new ProtocolLimits());

        var singles = (float[])request.Inputs[0].Data;
        var doubles = (double[])request.Inputs[1].Data;
        var halves = (Half[])request.Inputs[2].Data;
        for (var i = 0; i < numbers.Length; i++)
        {
            var expected = double.Parse(numbers[i], CultureInfo.InvariantCulture);
            Assert.Equal(float.Parse(numbers[i], CultureInfo.InvariantCulture), singles[i]);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(doubles[i]));
            if (i < numbers.Length - 2)
            {
                Assert.Equal((Half)expected, halves[i]);
            }
        }

        Assert.True(double.IsNegative(doubles[2_001]));
    }

    [Theory]
    [InlineData("15828781656352337.000", "15828781656352336")]
    [InlineData("275223515653727469568.0", "2.7522351565372745E+20")]
    [InlineData("16607544740549432967168.000", "1.6607544740549432E+22")]
    public void TensorData_Fp64_ExactTieWrittenWithAFraction_RoundsToEven(string written, string expected)
    {
        // Exactly halfway between two doubles: the even one. The JSON reader's own conversion (Utf8Parser) rounds
        // these up when the number has a fraction part; the first is decided here, the others by .NET's number parser.
        var json = "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[" + written + "]},"
            + "{\"name\":\"b\",\"shape\":[1,1],\"datatype\":\"FP64\",\"data\":[[" + written + "]]}]}";

        var request = V2Json.ReadRequest(Encoding.UTF8.GetBytes(json), null, new ProtocolLimits());

        var value = double.Parse(expected, CultureInfo.InvariantCulture);
        Assert.Equal(value, ((double[])request.Inputs[0].Data)[0]);
        Assert.Equal(value, ((double[])request.Inputs[1].Data)[0]);
    }

    private static string Scientific(bool negative, string digits, int exponent) =>
        (negative ? "-" : "") + digits[0] + (digits.Length > 1 ? "." + digits[1..] : "") + "e" + exponent.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses each text both ways and fails on any difference; counts how often the fast path decided.</summary>
    private sealed class Checker
    {
        public int Count { get; private set; }

        public int DoublesDecided { get; private set; }

        public int SinglesDecided { get; private set; }

        public void Check(string text)
        {
            Count++;
            var bytes = Encoding.ASCII.GetBytes(text);
            var expectedDouble = ExpectedDouble(bytes);
            if (JsonNumbers.TryParseDouble(bytes, out var d))
            {
                DoublesDecided++;
                Assert.True(
                    BitConverter.DoubleToInt64Bits(expectedDouble) == BitConverter.DoubleToInt64Bits(d),
                    $"{text}: {d:R}, .NET {expectedDouble:R}");
            }

            var expectedSingle = float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (JsonNumbers.TryParseSingle(bytes, out var f))
            {
                SinglesDecided++;
                Assert.True(float.IsFinite(f), text);
                Assert.True(
                    BitConverter.SingleToInt32Bits(expectedSingle) == BitConverter.SingleToInt32Bits(f),
                    $"{text}: {f:R}, .NET {expectedSingle:R}");
            }
        }

        /// <summary>Checks <paramref name="odd"/> × 2^<paramref name="shift"/> written exactly, and with its last digit moved by one each way.</summary>
        public void CheckExactAndNeighbours(BigInteger odd, int shift)
        {
            // n × 2^s = n × 5^-s / 10^-s for s < 0: the digits of n × 5^-s, the point -s places from the right.
            var digits = (shift >= 0 ? odd << shift : odd * BigInteger.Pow(5, -shift)).ToString(CultureInfo.InvariantCulture);
            var scale = Math.Max(0, -shift);
            Check(Scientific(false, digits, digits.Length - 1 - scale));
            Check(Scientific(false, digits + "1", digits.Length - 1 - scale));
            var below = (BigInteger.Parse(digits, CultureInfo.InvariantCulture) * 10) - 1;
            Check(Scientific(false, below.ToString(CultureInfo.InvariantCulture), digits.Length - 1 - scale));
        }

        private static double ExpectedDouble(byte[] bytes) =>
            double.Parse(Encoding.ASCII.GetString(bytes), NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
