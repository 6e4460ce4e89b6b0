using System.Globalization;
using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>
/// Numeric data arrays (every datatype but BOOL and BYTES), flat or the innermost level of nested data, are read
/// straight from the JSON's bytes (<c>V2BodyReader.TryReadNumbers</c>), not token by token. Whatever the body, valid or broken anywhere, the result must be the token-by-token reader's: the same
/// tensors bit for bit and the same properties after them, or the same refusal with the same message.
/// </summary>
public class V2JsonNumberArrayTests
{
    private static readonly ProtocolLimits Limits = new();

    private static readonly string[] NumericTypes = ["FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"];

    // Bytes that break a number array in the ways that matter: separators, brackets, number characters in the wrong
    // place, a string, a comment, a letter.
    private static readonly byte[] Breakers = ",,]][[ .e-+0019x\"/\t\n"u8.ToArray();

    [Fact]
    public void RandomBodies_ValidAndBroken_SameAsTokenByToken()
    {
        var random = new Random(2401);
        int read = 0, refused = 0;
        for (var i = 0; i < 6_000; i++)
        {
            var body = Body(random);
            if (random.Next(3) != 0)
            {
                body = Break(body, random);
            }

            if (SameAsTokenByToken(body))
            {
                read++;
            }
            else
            {
                refused++;
            }
        }

        // Both kinds were exercised.
        Assert.True(read > 1_000 && refused > 1_000, $"read {read}, refused {refused}");
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("[ 1 , 2 ,\n\t3 ]")]
    [InlineData("[1,2,3,]")]
    [InlineData("[1,,3]")]
    [InlineData("[1 2 3]")]
    [InlineData("[1,2]")]
    [InlineData("[1,2,3,4]")]
    [InlineData("[01,2,3]")]
    [InlineData("[1.,2,3]")]
    [InlineData("[.5,2,3]")]
    [InlineData("[+1,2,3]")]
    [InlineData("[1e,2,3]")]
    [InlineData("[1e5e5,2,3]")]
    [InlineData("[1,2,3x]")]
    [InlineData("[1,2,\"3\"]")]
    [InlineData("[1,2,null]")]
    [InlineData("[1,2,NaN]")]
    [InlineData("[1,2,3/**/]")]
    [InlineData("[1,2,1e39]")]
    [InlineData("[1,2,-1e39]")]
    [InlineData("[1,2,70000]")]
    [InlineData("[1,2,4.9e-324]")]
    [InlineData("[1,2,123456789012345678901234567890]")]
    [InlineData("[1,2,3")]
    public void EdgeArrays_SameAsTokenByToken(string data)
    {
        foreach (var type in NumericTypes)
        {
            // Read at once, and saved to be read after the shape that follows it.
            var json = "{\"id\":\"e\",\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"" + type + "\",\"data\":" + data
                + "},{\"name\":\"y\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[7]}],\"outputs\":[{\"name\":\"o\"}]}";
            SameAsTokenByToken(Encoding.UTF8.GetBytes(json));
            var deferred = "{\"id\":\"e\",\"inputs\":[{\"name\":\"x\",\"data\":" + data + ",\"shape\":[3],\"datatype\":\"" + type
                + "\"},{\"name\":\"y\",\"data\":[7],\"shape\":[1],\"datatype\":\"INT32\"}],\"outputs\":[{\"name\":\"o\"}]}";
            SameAsTokenByToken(Encoding.UTF8.GetBytes(deferred));
            var nested = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"" + type + "\",\"data\":[[4,5,6]," + data + "]}]}";
            SameAsTokenByToken(Encoding.UTF8.GetBytes(nested));
        }
    }

    [Fact]
    public void ArrayReadFromBytes_ThenADeclaredShapeBeyondTheBytesLeft_RefusedWithoutAllocatingIt()
    {
        // The bytes left after a long first array are counted from where it ended, not from where the reader was made
        // again: 50,000 FP64 elements (400 KB) cannot fit in the 70 bytes that follow it.
        var first = string.Join(',', Enumerable.Repeat("0", 100_000));
        var json = "{\"inputs\":[{\"name\":\"a\",\"shape\":[100000],\"datatype\":\"FP32\",\"data\":[" + first + "]},"
            + "{\"name\":\"b\",\"shape\":[50000],\"datatype\":\"FP64\",\"data\":[]}]}";
        var body = Encoding.UTF8.GetBytes(json);
        Assert.Throws<RefusedException>(() => V2Json.ReadRequest(body, null, Limits)); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<RefusedException>(() => V2Json.ReadRequest(body, null, Limits));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("inputs[1]: data does not match shape", error.Message);

        // The first tensor's 400,000 bytes, and not the second's 400,000.
        Assert.InRange(allocated, 400_000, 600_000);
    }

    [Fact]
    public void SavedArrayReadFromBytes_ThenAnotherInput_Read()
    {
        // Data before its shape is read later from a saved reader; reading it from the bytes moves that reader only,
        // and the next input is measured against the bytes really left.
        var first = string.Join(',', Enumerable.Repeat("1.5", 1_000));
        var second = string.Join(',', Enumerable.Repeat("0", 200));
        var json = "{\"inputs\":[{\"name\":\"a\",\"data\":[" + first + "],\"shape\":[1000],\"datatype\":\"FP32\"},"
            + "{\"name\":\"b\",\"shape\":[200],\"datatype\":\"FP32\",\"data\":[" + second + "]}]}";

        var request = V2Json.ReadRequest(Encoding.UTF8.GetBytes(json), null, Limits);

        Assert.All((float[])request.Inputs[0].Data, x => Assert.Equal(1.5f, x));
        Assert.Equal(200, request.Inputs[1].Data.Length);
    }

    /// <summary>Reads <paramref name="body"/> both ways and asserts the same outcome; true when it was read.</summary>
    private static bool SameAsTokenByToken(byte[] body, int? headerLength = null)
    {
        var fast = Outcome(body, headerLength, tokenByToken: false);
        var slow = Outcome(body, headerLength, tokenByToken: true);
        var text = Encoding.UTF8.GetString(body);
        if (slow.Error is { } expected)
        {
            Assert.True(fast.Error is not null, $"read from bytes, refused token by token ({expected.Message}): {text}");
            Assert.Equal(expected.Kind, fast.Error!.Kind);
            Assert.Equal(expected.Message, fast.Error.Message);
            return false;
        }

        Assert.True(fast.Error is null, $"refused from bytes ({fast.Error?.Message}), read token by token: {text}");
        var (a, b) = (fast.Request!, slow.Request!);
        Assert.Equal(b.Id, a.Id);
        Assert.Equal(b.Outputs?.Count, a.Outputs?.Count);
        Assert.Equal(b.Inputs.Count, a.Inputs.Count);
        for (var i = 0; i < b.Inputs.Count; i++)
        {
            Assert.Equal(b.Inputs[i].Name, a.Inputs[i].Name);
            Assert.Equal(b.Inputs[i].DataType, a.Inputs[i].DataType);
            Assert.Equal(b.Inputs[i].Shape, a.Inputs[i].Shape);
            Assert.Equal(Bits(b.Inputs[i].Data), Bits(a.Inputs[i].Data));
        }

        return true;
    }

    private static (InferenceRequest? Request, RefusedException? Error) Outcome(byte[] body, int? headerLength, bool tokenByToken)
    {
        V2BodyReader.NumbersTokenByToken = tokenByToken;
        try
        {
            return (V2Json.ReadRequest(body, headerLength, Limits), null);
        }
        catch (RefusedException error)
        {
            return (null, error);
        }
        finally
        {
            V2BodyReader.NumbersTokenByToken = false;
        }
    }

    private static string Bits(Array data) => data switch
    {
        Half[] h => string.Join(',', h.Select(x => BitConverter.HalfToUInt16Bits(x))),
        float[] f => string.Join(',', f.Select(BitConverter.SingleToInt32Bits)),
        double[] d => string.Join(',', d.Select(BitConverter.DoubleToInt64Bits)),
        byte[][] b => string.Join(',', b.Select(Convert.ToHexString)),
        _ => string.Join(',', data.Cast<object>()),
    };

    /// <summary>A request of one to three numeric inputs, data written in the ways clients write numbers, properties in any order.</summary>
    private static byte[] Body(Random random)
    {
        var json = new StringBuilder("{\"id\":\"r\",\"inputs\":[");
        var inputs = random.Next(1, 4);
        for (var i = 0; i < inputs; i++)
        {
            var type = NumericTypes[random.Next(NumericTypes.Length)];

            // Flat, or nested rows × columns as Python's tolist() writes an array.
            var nested = random.Next(3) == 0;
            var rows = nested ? random.Next(0, 4) : 1;
            var count = random.Next(0, nested ? 5 : 12);
            var data = new StringBuilder("\"data\":[");
            for (var row = 0; row < rows; row++)
            {
                data.Append(row == 0 ? "" : ",").Append(nested ? "[" : "");
                for (var j = 0; j < count; j++)
                {
                    data.Append(j == 0 ? "" : ",").Append(Space(random)).Append(type.StartsWith("FP", StringComparison.Ordinal) || random.Next(20) == 0 ? Number(random) : Integer(random, type)).Append(Space(random));
                }

                data.Append(nested ? "]" : "");
            }

            // Properties in any order: data before the shape is read later, from a saved reader.
            var shape = nested ? $"[{rows},{count}]" : $"[{count}]";
            string[] properties = [$"\"name\":\"t{i}\"", $"\"datatype\":\"{type}\"", $"\"shape\":{shape}", data.Append(']').ToString()];
            random.Shuffle(properties);
            json.Append(i == 0 ? "" : ",").Append('{').AppendJoin(',', properties).Append('}');
        }

        json.Append(']');
        if (random.Next(2) == 0)
        {
            json.Append(",\"outputs\":[{\"name\":\"o\"}]");
        }

        return Encoding.UTF8.GetBytes(json.Append('}').ToString());
    }

    private static string Space(Random random) => random.Next(4) switch
    {
        0 => " ",
        1 => "\n\t ",
        _ => "",
    };

    private static string Number(Random random)
    {
        var value = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 8));
        return random.Next(8) switch
        {
            0 => ((float)value).ToString("R", CultureInfo.InvariantCulture),
            1 => ((double)(float)value).ToString("R", CultureInfo.InvariantCulture),
            2 => value.ToString("E6", CultureInfo.InvariantCulture),
            3 => random.Next(-70_000, 70_000).ToString(CultureInfo.InvariantCulture),
            4 => "0",
            5 => "-0.0",
            6 => random.Next(2) == 0 ? "1e39" : "3.4028235e38",
            _ => value.ToString("R", CultureInfo.InvariantCulture),
        };
    }

    private static readonly string[] IntegerEdges =
    [
        "-0", "0", "1.0", "1e2", "127", "128", "-128", "-129", "255", "256", "32767", "32768", "65535", "65536",
        "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967295", "4294967296", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    ];

    /// <summary>Mostly an integer within <paramref name="type"/>'s range; one in eight an edge of some integer type.</summary>
    private static string Integer(Random random, string type)
    {
        if (random.Next(8) == 0)
        {
            return IntegerEdges[random.Next(IntegerEdges.Length)];
        }

        var (min, max) = type switch
        {
            "INT8" => (sbyte.MinValue, sbyte.MaxValue),
            "UINT8" => (0L, byte.MaxValue),
            "INT16" => (short.MinValue, short.MaxValue),
            "UINT16" => (0L, ushort.MaxValue),
            "INT32" => (int.MinValue, int.MaxValue),
            "UINT32" => (0L, uint.MaxValue),
            "UINT64" => (0L, long.MaxValue),
            _ => (long.MinValue, long.MaxValue),
        };
        return random.NextInt64(min, max).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The body with one byte replaced, inserted or removed, in or near a data array.</summary>
    private static byte[] Break(byte[] body, Random random)
    {
        var text = Encoding.UTF8.GetString(body);
        var data = text.IndexOf("\"data\":[", StringComparison.Ordinal);
        var at = Math.Clamp(data + 8 + random.Next(-2, 40), 0, body.Length - 1);
        var bytes = body.ToList();
        var breaker = Breakers[random.Next(Breakers.Length)];
        switch (random.Next(3))
        {
            case 0:
                bytes[at] = breaker;
                break;
            case 1:
                bytes.Insert(at, breaker);
                break;
            default:
                bytes.RemoveAt(at);
                break;
        }

        return [.. bytes];
    }
}
