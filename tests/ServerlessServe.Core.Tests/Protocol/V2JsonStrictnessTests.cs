using System.Text;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>The strict JSON reader: every refusal is a 400 whose message holds nothing the caller wrote.</summary>
public class V2JsonStrictnessTests
{
    private const string Secret = "secret-token-xyz";

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("\"secret-token-xyz\"")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1,]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]} {}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]} secret-token-xyz")]
    [InlineData("{/*secret-token-xyz*/\"inputs\":[]}")]
    [InlineData("{'inputs':[]}")]
    public void ReadRequest_MalformedJson_Refused400(string json)
    {
        ProtocolAssert.Refused(json, 400, Secret);
    }

    [Fact]
    public void ReadRequest_InvalidUtf8InName_Refused400()
    {
        var body = Encoding.Latin1.GetBytes("{\"inputs\":[{\"name\":\"\u00ff\u00fe\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}");

        ProtocolAssert.Refused(body, null, 400, null);
    }

    // JSON's grammar allows an escape of half a surrogate pair; System.Text.Json throws InvalidOperationException when it
    // compares such a name, which the request fuzz target found answered 500 (JsonEscapes).
    [Theory]
    [InlineData("{\"in\\udddd\":1}")] // the fuzz target's finding: the top level
    [InlineData("{\"\\ude00\\ud83d\":1}")] // a pair in the wrong order
    [InlineData("{\"inputs\":[{\"na\\ud800\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")] // a tensor
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{\"name\\udbff\":\"y\"}]}")] // a requested output
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1],\"parameters\":{\"\\ud83d\":1}}]}")] // a parameter's name
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"\\uda87INT8\",\"data\":[1]}]}")] // a datatype (a string compared, found by the edge fuzzer)
    [InlineData("{\"parameters\":{\"a\\udc00\":1},\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")] // a request parameter's name
    public void ReadRequest_UnpairedSurrogateEscapeInANameOrDatatype_Refused400(string json)
    {
        ProtocolAssert.Refused(json, 400);

        // In the binary extension's header too, however the body is read (ProtocolAssert reads it all three ways).
        var body = Encoding.UTF8.GetBytes(json);
        ProtocolAssert.Refused(body, body.Length, 400, null);
    }

    [Fact]
    public void ReadRequest_WellFormedEscapesInNames_ReadAsTheirCharacters()
    {
        // A known name escaped is that name; a whole pair escaped is a character, here of a name nobody knows.
        var request = ProtocolAssert.Read("{\"\\u0069nputs\":[{\"n\\u0061me\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}");
        Assert.Equal("x", Assert.Single(request.Inputs).Name);

        var error = ProtocolAssert.Refused("{\"\\ud83d\\ude00\":1,\"inputs\":[]}", 400);
        Assert.DoesNotContain("valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadResponse_UnpairedSurrogateEscapeInAName_Refused400()
    {
        var error = Assert.Throws<ServerlessServe.Core.Pipeline.RefusedException>(() => V2Json.ReadResponse(
            Encoding.UTF8.GetBytes("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"y\",\"sh\\udfffape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}"), null, new ProtocolLimits()));

        Assert.Equal(ServerlessServe.Core.Pipeline.RefusalKind.Invalid, error.Kind);
    }

    [Fact]
    public void ReadRequest_Depth64_Accepted()
    {
        // Root object (1) + inputs array (2) + input object (3) + 61 nested data arrays = depth 64.
        var request = ProtocolAssert.Read(DeepRequest(61));

        Assert.Equal(61, request.Inputs[0].Shape.Length);
        Assert.Equal(new[] { 5 }, request.Inputs[0].Data);
    }

    [Fact]
    public void ReadRequest_Depth65_Refused400()
    {
        var error = ProtocolAssert.Refused(DeepRequest(62), 400);

        Assert.Contains("nesting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRequest_Depth65InSkippedData_Refused400()
    {
        // data before shape is skipped first: the depth cap must hold there too.
        var json = "{\"inputs\":[{\"data\":" + new string('[', 62) + "5" + new string(']', 62) + ",\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[1]}]}";

        var error = ProtocolAssert.Refused(json, 400);
        Assert.Contains("nesting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadRequest_VeryDeepJson_Refused400()
    {
        ProtocolAssert.Refused("{\"id\":" + new string('[', 10_000) + new string(']', 10_000) + "}", 400);
    }

    [Theory]
    [InlineData("{\"id\":\"a\",\"id\":\"secret-token-xyz\",\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"id\":\"a\",\"i\\u0064\":\"b\",\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"inputs\":[]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"name\":\"secret-token-xyz\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1],\"data\":[2]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"parameters\":{},\"parameters\":{},\"data\":[1]}]}")]
    [InlineData("{\"parameters\":{\"binary_data_output\":true,\"binary_data_output\":false},\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{\"name\":\"y\",\"name\":\"z\"}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true,\"binary_data\":true}}]}")]
    public void ReadRequest_DuplicateProperty_Refused400(string json)
    {
        var error = ProtocolAssert.Refused(json, 400, Secret);

        Assert.Contains("duplicate", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"secret-token-xyz\":1,\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}", "request")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1],\"secret-token-xyz\":{}}]}", "inputs[0]")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{\"name\":\"y\"},{\"name\":\"z\",\"secret-token-xyz\":true}]}", "outputs[1]")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]},{\"name\":\"q\",\"Shape\":[1]}]}", "inputs[1]")]
    public void ReadRequest_UnknownProperty_Refused400(string json, string where)
    {
        var error = ProtocolAssert.Refused(json, 400, Secret, "Shape");

        Assert.Equal($"{where}: unknown property", error.Message);
    }

    [Theory]
    [InlineData("{\"parameters\":{\"secret-token-xyz\":1},\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"parameters\":{\"binary_data_output\":true,\"priority\":1},\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1],\"parameters\":{\"secret-token-xyz\":\"v\"}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"classification\":3}}]}")]
    public void ReadRequest_UnknownParameter_Refused400(string json)
    {
        var error = ProtocolAssert.Refused(json, 400, Secret, "priority", "classification");

        Assert.Contains("unsupported parameter", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"parameters\":{\"binary_data_output\":\"secret-token-xyz\"},\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"parameters\":{\"binary_data_output\":{\"a\":1}},\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"parameters\":{\"binary_data_size\":-987654321}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"parameters\":{\"binary_data_size\":1.5}}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":987654321}}]}")]
    public void ReadRequest_ParameterOfWrongType_Refused400(string json)
    {
        ProtocolAssert.Refused(json, 400, Secret, "987654321");
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("nan")]
    public void ReadRequest_NonFiniteLiteral_Refused400(string literal)
    {
        ProtocolAssert.Refused(ProtocolAssert.OneInput($"\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,{literal}]"), 400, literal);
    }

    [Theory]
    [InlineData("FP16", "NaN")]
    [InlineData("FP32", "Infinity")]
    [InlineData("FP64", "-Infinity")]
    [InlineData("INT32", "987654321")]
    [InlineData("FP32", "secret-token-xyz")]
    public void ReadRequest_NumberAsString_Refused400(string type, string text)
    {
        var error = ProtocolAssert.Refused(ProtocolAssert.OneInput($"\"name\":\"x\",\"shape\":[1],\"datatype\":\"{type}\",\"data\":[\"{text}\"]"), 400, text);

        Assert.Equal($"inputs[0]: data element 0 has the wrong JSON type for {type}", error.Message);
    }

    [Theory]
    [InlineData("UINT8", "300")]
    [InlineData("UINT8", "-1")]
    [InlineData("INT8", "128")]
    [InlineData("INT16", "-32769")]
    [InlineData("UINT16", "65536")]
    [InlineData("INT32", "2147483648")]
    [InlineData("INT32", "1.5")]
    [InlineData("INT32", "1e3")]
    [InlineData("UINT32", "4294967296")]
    [InlineData("INT64", "9223372036854775808")]
    [InlineData("UINT64", "18446744073709551616")]
    [InlineData("FP16", "65520")]
    [InlineData("FP32", "3.5e38")]
    [InlineData("FP64", "1e309")]
    public void ReadRequest_NumberOutOfRange_Refused400(string type, string number)
    {
        var error = ProtocolAssert.Refused(ProtocolAssert.OneInput($"\"name\":\"x\",\"shape\":[2],\"datatype\":\"{type}\",\"data\":[0,{number}]"), 400, number);

        Assert.Equal($"inputs[0]: data element 1 is not representable as {type}", error.Message);
    }

    [Theory]
    [InlineData("BOOL", "1")]
    [InlineData("BOOL", "\"true\"")]
    [InlineData("BYTES", "987654321")]
    [InlineData("INT8", "true")]
    [InlineData("INT8", "null")]
    [InlineData("INT8", "{}")]
    public void ReadRequest_ElementOfWrongJsonType_Refused400(string type, string element)
    {
        ProtocolAssert.Refused(ProtocolAssert.OneInput($"\"name\":\"x\",\"shape\":[1],\"datatype\":\"{type}\",\"data\":[{element}]"), 400, "987654321");
    }

    [Theory]
    [InlineData("[2]", "[1,2,3]")]
    [InlineData("[2]", "[1]")]
    [InlineData("[2,2]", "[1,2,3]")]
    [InlineData("[2,2]", "[[1,2],[3]]")]
    [InlineData("[2,2]", "[[1,2],[3,4],[5,6]]")]
    [InlineData("[2,2]", "[[1,2],3,4]")]
    [InlineData("[2,2]", "[[[1],[2]],[[3],[4]]]")]
    [InlineData("[4]", "[[1,2],[3,4]]")]
    [InlineData("[2,1,2]", "[[1,2],[3,4]]")]
    [InlineData("[]", "[]")]
    [InlineData("[]", "[[1]]")]
    [InlineData("[1]", "1")]
    public void ReadRequest_DataNotMatchingShape_Refused400(string shape, string data)
    {
        ProtocolAssert.Refused(ProtocolAssert.OneInput($"\"name\":\"x\",\"shape\":{shape},\"datatype\":\"INT32\",\"data\":{data}"), 400);
    }

    [Theory]
    [InlineData("[-1]")]
    [InlineData("[1.5]")]
    [InlineData("[\"2\"]")]
    [InlineData("[[1]]")]
    [InlineData("2")]
    public void ReadRequest_InvalidShape_Refused400(string shape)
    {
        ProtocolAssert.Refused(ProtocolAssert.OneInput($"\"name\":\"x\",\"shape\":{shape},\"datatype\":\"INT32\",\"data\":[1]"), 400);
    }

    [Theory]
    [InlineData("\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1]")]
    [InlineData("\"name\":\"x\",\"datatype\":\"INT32\",\"data\":[1]")]
    [InlineData("\"name\":\"x\",\"shape\":[1],\"data\":[1]")]
    [InlineData("\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT32\"")]
    [InlineData("\"name\":\"\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1]")]
    [InlineData("\"name\":\"x\",\"shape\":[1],\"datatype\":\"secret-token-xyz\",\"data\":[1]")]
    [InlineData("\"name\":\"x\",\"shape\":[1],\"datatype\":\"fp32\",\"data\":[1]")]
    [InlineData("\"name\":987654321,\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1]")]
    [InlineData("\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1],\"parameters\":{\"binary_data_size\":4}")]
    public void ReadRequest_InvalidTensorHeader_Refused400(string tensorBody)
    {
        ProtocolAssert.Refused(ProtocolAssert.OneInput(tensorBody), 400, Secret, "987654321", "fp32");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"inputs\":[]}")]
    [InlineData("{\"inputs\":{}}")]
    [InlineData("{\"inputs\":[1]}")]
    [InlineData("{\"id\":987654321,\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{}]}")]
    [InlineData("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[\"y\"]}")]
    public void ReadRequest_InvalidRequestStructure_Refused400(string json)
    {
        ProtocolAssert.Refused(json, 400, "987654321");
    }

    [Fact]
    public void ReadRequest_DuplicateInputName_Refused400WithoutName()
    {
        var json = """{"inputs":[{"name":"secret-token-xyz","shape":[1],"datatype":"INT8","data":[1]},{"name":"secret-token-xyz","shape":[1],"datatype":"INT8","data":[2]}]}""";

        var error = ProtocolAssert.Refused(json, 400, Secret);

        Assert.Equal("inputs[1]: duplicate tensor name", error.Message);
    }

    [Fact]
    public void ReadRequest_DuplicateOutputName_Refused400()
    {
        ProtocolAssert.Refused("""{"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],"outputs":[{"name":"secret-token-xyz"},{"name":"secret-token-xyz"}]}""", 400, Secret);
    }

    [Fact]
    public void ReadRequest_BytesElementOverLimit_Refused400()
    {
        var limits = new ProtocolLimits { MaxBytesElementLength = 8 };

        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"secret-token-xyz\"]"), 400, limits, Secret);
        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\"]"), 400, limits);
        Assert.Single(ProtocolAssert.Read(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\\u0041\"]"), limits).Inputs);
    }

    [Fact]
    public void ReadRequest_LongIdOrName_Refused400()
    {
        var limits = new ProtocolLimits { MaxIdLength = 4, MaxNameLength = 4 };

        ProtocolAssert.Refused("{\"id\":\"abcde\",\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}", 400, limits, "abcde");
        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"abcde\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]"), 400, limits, "abcde");
    }

    /// <summary>
    /// Every tensor name a manifest may hold (256 characters), and the released top-k name of one ({name}_classes), is
    /// read under the default limits; one past them is refused.
    /// </summary>
    [Fact]
    public void ReadRequest_NamesAsLongAsAManifestAllows_ReadByDefault()
    {
        var limits = new ProtocolLimits();
        var longest = new string('n', 256) + "_classes";

        var request = ProtocolAssert.Read("{\"inputs\":[{\"name\":\"" + new string('n', 256) + "\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}],\"outputs\":[{\"name\":\"" + longest + "\"}]}", limits);

        Assert.Equal(256, Assert.Single(request.Inputs).Name.Length);
        Assert.Equal(longest, Assert.Single(request.Outputs!).Name);
        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"" + longest + "x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]"), 400, limits);
    }

    /// <summary>
    /// A long escaped property name, which no request may hold, is refused before it is decoded: 2 MiB of escapes
    /// rented a 2 Mi-character buffer (4 MiB) to be refused anyway (found in review 2026-12-07).
    /// </summary>
    [Fact]
    public void ReadRequest_LongEscapedPropertyName_Refused400WithoutDecodingIt()
    {
        var body = Encoding.UTF8.GetBytes("{\"" + string.Concat(Enumerable.Repeat("\\u0041", 350_000)) + "\":1,\"inputs\":[]}");
        V2Json.ReadRequest("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}]}"u8.ToArray(), null, new ProtocolLimits());

        var before = GC.GetAllocatedBytesForCurrentThread();
        var refused = Assert.Throws<Core.Pipeline.RefusedException>(() => V2Json.ReadRequest(body, null, new ProtocolLimits()));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(Core.Pipeline.RefusalKind.Invalid, refused.Refusal.Kind);
        Assert.True(allocated < body.Length, $"{allocated} bytes allocated reading a {body.Length}-byte body");
    }

    [Fact]
    public void ReadRequest_TooManyTensorsOrDimensions_Refused400()
    {
        var limits = new ProtocolLimits { MaxTensors = 1, MaxRank = 2 };
        var input = "{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]}";

        ProtocolAssert.Refused("{\"inputs\":[" + input + "," + input.Replace("\"x\"", "\"y\"", StringComparison.Ordinal) + "]}", 400, limits);
        ProtocolAssert.Refused("{\"inputs\":[" + input + "],\"outputs\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", 400, limits);
        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1,1,1],\"datatype\":\"INT8\",\"data\":[1]"), 400, limits);
    }

    [Fact]
    public void ReadRequest_ErrorsUseZeroBasedPositions()
    {
        var json = """{"inputs":[{"name":"a","shape":[1],"datatype":"INT8","data":[1]},{"name":"b","shape":[1],"datatype":"INT8","data":[987654321]}]}""";

        var error = ProtocolAssert.Refused(json, 400, "987654321");

        Assert.Equal("inputs[1]: data element 0 is not representable as INT8", error.Message);
    }

    private static string DeepRequest(int dataDepth)
    {
        var shape = string.Join(",", Enumerable.Repeat("1", dataDepth));
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[" + shape + "],\"data\":"
            + new string('[', dataDepth) + "5" + new string(']', dataDepth) + "}]}";
    }
}
