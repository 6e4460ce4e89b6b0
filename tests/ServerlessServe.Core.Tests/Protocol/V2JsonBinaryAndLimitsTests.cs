using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

/// <summary>Size caps (413) and the binary tensor data extension's framing errors (400).</summary>
public class V2JsonBinaryAndLimitsTests
{
    private static readonly ProtocolLimits Limits = new();

    [Fact]
    public void ReadRequest_BodyOverMaxBodyBytes_Refused413()
    {
        var limits = new ProtocolLimits { MaxBodyBytes = 64 };
        var json = ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[20],\"datatype\":\"INT8\",\"data\":[" + string.Join(",", Enumerable.Repeat("1", 20)) + "]");

        ProtocolAssert.Refused(json, 413, limits);
    }

    [Fact]
    public void ReadRequest_ShapeOverElementCap_Refused413BeforeReadingData()
    {
        var limits = new ProtocolLimits { MaxElementsPerRequest = 100 };

        // The data is tiny and wrong: the cap must fire on the shape alone, before any allocation.
        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1000000,1000000],\"datatype\":\"FP32\",\"data\":[1]"), 413, limits);
        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[101],\"datatype\":\"FP32\",\"data\":[1]"), 413, limits);
    }

    [Fact]
    public void ReadRequest_ShapeProductOverflow_Refused413()
    {
        ProtocolAssert.Refused(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[9223372036854775807,4],\"datatype\":\"FP32\",\"data\":[]"), 413);
    }

    [Fact]
    public void ReadRequest_ElementCapAcrossTensors_Refused413()
    {
        var limits = new ProtocolLimits { MaxElementsPerRequest = 5 };
        var json = """{"inputs":[{"name":"a","shape":[3],"datatype":"INT8","data":[1,2,3]},{"name":"b","shape":[3],"datatype":"INT8","data":[1,2,3]}]}""";

        ProtocolAssert.Refused(json, 413, limits);
    }

    [Fact]
    public void ReadRequest_ElementCapAcrossBinaryTensors_Refused413()
    {
        var limits = new ProtocolLimits { MaxElementsPerRequest = 5 };
        var header = """{"inputs":[{"name":"a","shape":[3],"datatype":"INT8","parameters":{"binary_data_size":3}},{"name":"b","shape":[3],"datatype":"INT8","parameters":{"binary_data_size":3}}]}"""u8.ToArray();

        ProtocolAssert.Refused([.. header, 1, 2, 3, 4, 5, 6], header.Length, 413, limits);
    }

    [Fact]
    public void ReadRequest_ElementsExactlyAtCap_Accepted()
    {
        var limits = new ProtocolLimits { MaxElementsPerRequest = 6 };
        var json = """{"inputs":[{"name":"a","shape":[3],"datatype":"INT8","data":[1,2,3]},{"name":"b","shape":[3],"datatype":"INT8","data":[1,2,3]}]}""";

        Assert.Equal(2, ProtocolAssert.Read(json, limits).Inputs.Count);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(100_000)]
    public void ReadRequest_HeaderLengthOutOfRange_Refused400(int headerLength)
    {
        var body = Encoding.UTF8.GetBytes(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]"));

        ProtocolAssert.Refused(body, headerLength, 400, null);
    }

    [Fact]
    public void ReadRequest_HeaderLengthCutsJson_Refused400()
    {
        var body = Encoding.UTF8.GetBytes(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]"));

        ProtocolAssert.Refused(body, body.Length - 3, 400, null);
    }

    [Fact]
    public void ReadRequest_BinaryTrailingBytes_Refused400()
    {
        var (header, body) = BinaryInt32Request(size: 8, [1, 0, 0, 0, 2, 0, 0, 0, 99]);

        ProtocolAssert.Refused(body, header, 400, null);
    }

    [Fact]
    public void ReadRequest_BinaryMissingBytes_Refused400()
    {
        var (header, body) = BinaryInt32Request(size: 8, [1, 0, 0, 0, 2, 0, 0]);

        ProtocolAssert.Refused(body, header, 400, null);
    }

    [Fact]
    public void ReadRequest_BinarySizeNotMatchingShape_Refused400()
    {
        var (header, body) = BinaryInt32Request(size: 4, [1, 0, 0, 0]);

        ProtocolAssert.Refused(body, header, 400, null);
    }

    [Fact]
    public void ReadRequest_BinaryDataWithoutHeaderLength_Refused400()
    {
        var (_, body) = BinaryInt32Request(size: 8, [1, 0, 0, 0, 2, 0, 0, 0]);

        ProtocolAssert.Refused(body, null, 400, null);
    }

    [Theory]
    [InlineData("[0,4000000000]")]
    [InlineData("[4000000000,0]")]
    [InlineData("[0,4194305]")]
    public void ReadRequest_ADimensionAboveTheElementLimit_Refused413_EvenWithNoElements(string shape)
    {
        // No element, so the element count passes; but a graph that builds tensors from the input's shape (Range,
        // ConstantOfShape, Expand) would allocate in proportion to the 4-billion dimension.
        ProtocolAssert.Refused(ProtocolAssert.OneInput($"\"name\":\"x\",\"shape\":{shape},\"datatype\":\"FP32\",\"data\":[]"), 413);
    }

    [Fact]
    public void ReadRequest_ZeroRowsOfAnOrdinaryWidth_Read()
    {
        var json = Encoding.UTF8.GetBytes(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[0,4],\"datatype\":\"FP32\",\"data\":[]"));

        Assert.Equal([0L, 4L], Assert.Single(V2Json.ReadRequest(json, null, Limits).Inputs).Shape);
    }

    [Fact]
    public void ReadRequest_BytesAfterJsonOnlyRequest_Refused400()
    {
        var json = Encoding.UTF8.GetBytes(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT8\",\"data\":[1]"));

        ProtocolAssert.Refused([.. json, 0x42], json.Length, 400, null);
        Assert.Single(V2Json.ReadRequest(json, json.Length, Limits).Inputs);
    }

    [Theory]
    [InlineData(new byte[] { 9, 0, 0, 0, (byte)'a', (byte)'b' })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, (byte)'a', (byte)'b' })]
    [InlineData(new byte[] { 2, 0, 0, (byte)'a', (byte)'b' })]
    [InlineData(new byte[] { 1, 0, 0, 0, (byte)'a', 0 })]
    public void ReadRequest_BadBytesLengthPrefix_Refused400(byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"s\",\"shape\":[1],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":" + data.Length + "}}]}");

        ProtocolAssert.Refused([.. header, .. data], header.Length, 400, null, "987654321");
    }

    [Fact]
    public void ReadRequest_BinaryBytesElementOverLimit_Refused400()
    {
        var limits = new ProtocolLimits { MaxBytesElementLength = 2 };
        var header = """{"inputs":[{"name":"s","shape":[1],"datatype":"BYTES","parameters":{"binary_data_size":7}}]}"""u8.ToArray();

        ProtocolAssert.Refused([.. header, 3, 0, 0, 0, 1, 2, 3], header.Length, 400, limits);
    }

    [Fact]
    public void ReadRequest_BytesCountBeyondData_Refused400WithoutAllocating()
    {
        // Under the BYTES element cap (262,144), far beyond what 4 bytes can hold.
        var header = """{"inputs":[{"name":"s","shape":[200000],"datatype":"BYTES","parameters":{"binary_data_size":4}}]}"""u8.ToArray();

        ProtocolAssert.Refused([.. header, 0, 0, 0, 0], header.Length, 400, null);
    }

    [Fact]
    public void ReadRequest_BinaryBoolNotZeroOrOne_Refused400()
    {
        var header = """{"inputs":[{"name":"b","shape":[2],"datatype":"BOOL","parameters":{"binary_data_size":2}}]}"""u8.ToArray();

        ProtocolAssert.Refused([.. header, 1, 2], header.Length, 400, null);
        Assert.Equal(new[] { true, false }, V2Json.ReadRequest([.. header, 1, 0], header.Length, Limits).Inputs[0].Data);
    }

    [Fact]
    public void ReadResponse_Malformed_Refused400WithoutEcho()
    {
        var error = Assert.Throws<RefusedException>(() => V2Json.ReadResponse("""{"model_name":"m","secret-token-xyz":1,"outputs":[]}"""u8, null, Limits));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        ProtocolAssert.NoEcho(error.Message, "secret-token-xyz");
        Assert.Throws<RefusedException>(() => V2Json.ReadResponse("""{"outputs":[]}"""u8, null, Limits));
    }

    [Fact]
    public void ReadResponse_BinaryOutputs_DecodedInOrder()
    {
        var header = """{"model_name":"m","outputs":[{"name":"a","shape":[1],"datatype":"UINT16","parameters":{"binary_data_size":2}},{"name":"b","shape":[1],"datatype":"FP64","data":[2.5]}]}"""u8.ToArray();

        var response = V2Json.ReadResponse([.. header, 0x34, 0x12], header.Length, Limits);

        Assert.Equal(new ushort[] { 0x1234 }, response.Outputs[0].Data);
        Assert.Equal(new[] { 2.5 }, response.Outputs[1].Data);
    }

    [Fact]
    public void ReadResponse_BadOpenParameters_Refused400()
    {
        var invalidName = Encoding.Latin1.GetBytes("{\"model_name\":\"m\",\"parameters\":{\"\u00ff\":1},\"outputs\":[]}");

        Assert.Equal(RefusalKind.Invalid, Assert.Throws<RefusedException>(() => V2Json.ReadResponse(invalidName, null, Limits)).Kind);
        Assert.Equal(RefusalKind.Invalid, Assert.Throws<RefusedException>(() => V2Json.ReadResponse("""{"model_name":"m","parameters":{"a":1,"a":2},"outputs":[]}"""u8, null, Limits)).Kind);
        Assert.Equal(RefusalKind.Invalid, Assert.Throws<RefusedException>(() => V2Json.ReadResponse("""{"model_name":"m","parameters":{"a":[1]},"outputs":[]}"""u8, null, Limits)).Kind);
        Assert.Equal(RefusalKind.Invalid, Assert.Throws<RefusedException>(() => V2Json.ReadResponse("""{"model_name":"m","parameters":{"a":null},"outputs":[]}"""u8, null, Limits)).Kind);
    }

    [Fact]
    public void ReadResponse_BodyOverCap_Refused413()
    {
        var error = Assert.Throws<RefusedException>(() => V2Json.ReadResponse(new byte[65], null, new ProtocolLimits { MaxBodyBytes = 64 }));

        Assert.Equal(RefusalKind.TooLarge, error.Kind);
    }

    private static (int HeaderLength, byte[] Body) BinaryInt32Request(int size, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(
            "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"INT32\",\"parameters\":{\"binary_data_size\":" + size + "}}]}");
        return (header.Length, [.. header, .. data]);
    }
}
