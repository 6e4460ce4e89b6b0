using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

public class V2JsonRoundTripTests
{
    private static readonly ProtocolLimits Limits = new();

    public static TheoryData<TensorDataType> DataTypes => new(SampleTensors.AllTypes);

    [Theory]
    [MemberData(nameof(DataTypes))]
    public void WriteRequest_JsonInputs_ReadsBackEqual(TensorDataType type)
    {
        var request = new InferenceRequest { Id = "req-1", Inputs = [SampleTensors.For(type)] };

        var encoded = V2Json.WriteRequest(request, binaryInputs: false, binaryOutputs: false);

        Assert.Null(encoded.HeaderLength);
        Assert.Equal("application/json", encoded.ContentType);
        var read = V2Json.ReadRequest(encoded.Body, encoded.HeaderLength, Limits);
        Assert.Equal("req-1", read.Id);
        ProtocolAssert.TensorsEqual(request.Inputs, read.Inputs);
    }

    [Theory]
    [MemberData(nameof(DataTypes))]
    public void WriteRequest_BinaryInputs_ReadsBackEqual(TensorDataType type)
    {
        var request = new InferenceRequest { Inputs = [SampleTensors.For(type, "a"), SampleTensors.For(type, "b")] };

        var encoded = V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: true);

        Assert.NotNull(encoded.HeaderLength);
        Assert.Equal("application/octet-stream", encoded.ContentType);
        var read = V2Json.ReadRequest(encoded.Body, encoded.HeaderLength, Limits);
        ProtocolAssert.TensorsEqual(request.Inputs, read.Inputs);
        Assert.True(read.BinaryDataOutput);
    }

    [Theory]
    [MemberData(nameof(DataTypes))]
    public void WriteResponse_JsonAndBinary_ReadsBackEqual(TensorDataType type)
    {
        var response = new InferenceResponse
        {
            ModelName = "m",
            ModelVersion = "3",
            Id = "r",
            Outputs = [SampleTensors.For(type, "json"), SampleTensors.For(type, "bin")],
        };

        var encoded = V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: new HashSet<string> { "bin" });

        Assert.NotNull(encoded.HeaderLength);
        var header = Encoding.UTF8.GetString(encoded.Body, 0, encoded.HeaderLength!.Value);
        using var doc = JsonDocument.Parse(header);
        var outputs = doc.RootElement.GetProperty("outputs");
        Assert.True(outputs[0].TryGetProperty("data", out _));
        Assert.False(outputs[0].TryGetProperty("parameters", out _));
        Assert.True(outputs[1].GetProperty("parameters").GetProperty("binary_data_size").GetInt32() >= 0);
        Assert.False(outputs[1].TryGetProperty("data", out _));

        var read = V2Json.ReadResponse(encoded.Body, encoded.HeaderLength, Limits);
        Assert.Equal("m", read.ModelName);
        Assert.Equal("3", read.ModelVersion);
        Assert.Equal("r", read.Id);
        ProtocolAssert.TensorsEqual(response.Outputs, read.Outputs);
    }

    [Fact]
    public void WriteResponse_NoBinary_IsPlainJson()
    {
        var response = new InferenceResponse { ModelName = "m", Outputs = [SampleTensors.For(TensorDataType.Fp32)] };

        var encoded = V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null);

        Assert.Null(encoded.HeaderLength);
        Assert.Equal("application/json", encoded.ContentType);
        using var doc = JsonDocument.Parse(encoded.Body);
        Assert.Equal("FP32", doc.RootElement.GetProperty("outputs")[0].GetProperty("datatype").GetString());
        Assert.False(doc.RootElement.TryGetProperty("model_version", out _));
    }

    [Fact]
    public void WriteResponse_BinaryAll_PutsEveryOutputAfterHeaderInOrder()
    {
        var a = new Tensor("a", TensorDataType.Int32, [2], new[] { 1, 2 });
        var b = new Tensor("b", TensorDataType.UInt8, [3], new byte[] { 9, 8, 7 });
        var response = new InferenceResponse { ModelName = "m", Outputs = [a, b] };

        var encoded = V2Json.WriteResponse(response, binaryAll: true, binaryOutputs: null);

        var tail = encoded.Body.AsSpan(encoded.HeaderLength!.Value).ToArray();
        Assert.Equal(new byte[] { 1, 0, 0, 0, 2, 0, 0, 0, 9, 8, 7 }, tail);
    }

    [Fact]
    public void WriteResponse_ForRequest_OutputFlagOverridesRequestFlag()
    {
        var request = ProtocolAssert.Read(
            """{"parameters":{"binary_data_output":true},"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],"outputs":[{"name":"a","parameters":{"binary_data":false}},{"name":"b"}]}""");
        var response = new InferenceResponse
        {
            ModelName = "m",
            Outputs = [new Tensor("a", TensorDataType.Int8, [1], new sbyte[] { 1 }), new Tensor("b", TensorDataType.Int8, [1], new sbyte[] { 2 })],
        };

        var encoded = V2Json.WriteResponse(response, request);

        var read = V2Json.ReadResponse(encoded.Body, encoded.HeaderLength, Limits);
        Assert.Equal(encoded.Body.Length - 1, encoded.HeaderLength);
        Assert.Equal(new sbyte[] { 2 }, read.Outputs[1].Data);
        Assert.False(request.IsBinaryOutputRequested("a"));
        Assert.True(request.IsBinaryOutputRequested("b"));
    }

    /// <summary>
    /// An empty <c>outputs</c> asks for every output, as no <c>outputs</c> does (Triton's reading). Kept as an empty
    /// list, the inference app ran every output (it named none) and the gateway's redaction released none (none asked for):
    /// 200 with no outputs (review, 2026-12-07).
    /// </summary>
    [Fact]
    public void ReadRequest_EmptyOutputs_EveryOutputAsWithNone()
    {
        var request = ProtocolAssert.Read(
            """{"parameters":{"binary_data_output":true},"inputs":[{"name":"x","shape":[1],"datatype":"INT8","data":[1]}],"outputs":[]}""");

        Assert.Null(request.Outputs);
        Assert.True(request.IsBinaryOutputRequested("any"));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void WriteResponse_NonFiniteJsonOutput_RefusedButBinaryWorks(float value)
    {
        var response = new InferenceResponse { ModelName = "m", Outputs = [new Tensor("y", TensorDataType.Fp32, [1], new[] { value })] };

        var error = Assert.Throws<RefusedException>(() => V2Json.WriteResponse(response, binaryAll: false, binaryOutputs: null));
        Assert.Equal(RefusalKind.Failed, error.Kind);

        var encoded = V2Json.WriteResponse(response, binaryAll: true, binaryOutputs: null);
        var read = V2Json.ReadResponse(encoded.Body, encoded.HeaderLength, Limits);
        Assert.Equal(value, read.Outputs[0].As<float>()[0]);
    }

    [Fact]
    public void WriteRequest_ParametersAndOutputs_AreWrittenInV2Form()
    {
        var request = new InferenceRequest
        {
            Id = "i",
            Parameters = new Dictionary<string, ParameterValue> { [V2ParameterNames.BinaryDataOutput] = ParameterValue.FromBoolean(false) },
            Inputs = [new Tensor("x", TensorDataType.Fp32, [1], new[] { 1f })],
            Outputs = [new RequestedOutput("y", BinaryData: true)],
        };

        var encoded = V2Json.WriteRequest(request, binaryInputs: false, binaryOutputs: false);

        Assert.Equal("""{"id":"i","inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]}],"outputs":[{"name":"y"}]}""", Encoding.UTF8.GetString(encoded.Body));
    }

    [Fact]
    public void ReadRequest_NestedData_MatchesFlat()
    {
        var nested = ProtocolAssert.Read(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"INT32\",\"data\":[[1,2,3],[4,5,6]]"));
        var flat = ProtocolAssert.Read(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[2,3],\"datatype\":\"INT32\",\"data\":[1,2,3,4,5,6]"));

        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6 }, nested.Inputs[0].As<int>());
        ProtocolAssert.TensorsEqual(flat.Inputs, nested.Inputs);
    }

    [Fact]
    public void ReadRequest_DeepNestedBytes_ReadsRowMajor()
    {
        var request = ProtocolAssert.Read(ProtocolAssert.OneInput(
            "\"name\":\"x\",\"shape\":[2,1,2],\"datatype\":\"BYTES\",\"data\":[[[\"a\",\"b\"]],[[\"c\",\"\\u0064\"]]]"));

        Assert.Equal(["a", "b", "c", "d"], request.Inputs[0].As<byte[]>().Select(Encoding.UTF8.GetString));
    }

    [Fact]
    public void ReadRequest_DataBeforeShapeAndDatatype_IsParsed()
    {
        var request = ProtocolAssert.Read("""{"inputs":[{"data":[[true],[false]],"name":"x","datatype":"BOOL","shape":[2,1]}],"id":"z"}""");

        Assert.Equal(new[] { true, false }, request.Inputs[0].As<bool>());
        Assert.Equal("z", request.Id);
    }

    [Fact]
    public void ReadRequest_ZeroSizedAndScalarShapes_AreAccepted()
    {
        var request = ProtocolAssert.Read("""{"inputs":[{"name":"e","shape":[0,3],"datatype":"FP32","data":[]},{"name":"s","shape":[],"datatype":"INT64","data":[7]},{"name":"n","shape":[2,0],"datatype":"INT8","data":[[],[]]}]}""");

        Assert.Empty(request.Inputs[0].Data);
        Assert.Equal(new long[] { 7 }, request.Inputs[1].Data);
        Assert.Empty(request.Inputs[2].Data);
    }

    [Fact]
    public void ReadRequest_Fp16FromNumbers_RoundsToNearest()
    {
        var request = ProtocolAssert.Read(ProtocolAssert.OneInput("\"name\":\"h\",\"shape\":[3],\"datatype\":\"FP16\",\"data\":[0.1,65504,-2]"));

        Assert.Equal(new[] { (Half)0.1, Half.MaxValue, (Half)(-2) }, request.Inputs[0].As<Half>());
    }

    [Fact]
    public void ReadRequest_TritonStyleBinaryBody_DecodesLittleEndian()
    {
        var header = """{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},{"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":11}}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}"""u8.ToArray();
        byte[] tensors = [0, 0, 0xC0, 0x3F, 0, 0, 0x20, 0xC1, 2, 0, 0, 0, (byte)'h', (byte)'i', 1, 0, 0, 0, (byte)'!'];
        var body = header.Concat(tensors).ToArray();

        var request = V2Json.ReadRequest(body, header.Length, Limits);

        Assert.Equal(new[] { 1.5f, -10f }, request.Inputs[0].As<float>());
        Assert.Equal(["hi", "!"], request.Inputs[1].As<byte[]>().Select(Encoding.UTF8.GetString));
        Assert.True(request.Outputs![0].BinaryData);
    }

    [Fact]
    public void ReadRequest_MixedJsonAndBinaryInputs_AreBothRead()
    {
        var header = """{"inputs":[{"name":"a","shape":[1],"datatype":"INT16","data":[5]},{"name":"b","shape":[1],"datatype":"INT16","parameters":{"binary_data_size":2}}]}"""u8.ToArray();
        var body = header.Concat(new byte[] { 0xFF, 0xFF }).ToArray();

        var request = V2Json.ReadRequest(body, header.Length, Limits);

        Assert.Equal(new short[] { 5 }, request.Inputs[0].Data);
        Assert.Equal(new short[] { -1 }, request.Inputs[1].Data);
    }

    [Fact]
    public void ReadResponse_OpenParameters_AreKept()
    {
        var body = """{"model_name":"m","parameters":{"a":"s","b":3,"c":1.5,"d":true},"outputs":[]}"""u8.ToArray();

        var response = V2Json.ReadResponse(body, null, Limits);

        Assert.Equal(4, response.Parameters.Count);
        Assert.True(response.Parameters["b"].TryGetInt64(out var b) && b == 3);
        Assert.True(response.Parameters["c"].TryGetDouble(out var c) && c == 1.5);
        Assert.Equal("s", response.Parameters["a"].ToString());
    }

    [Fact]
    public void ReadResponse_DoubleParameter_IsTheNearestDouble()
    {
        // An exact tie written with a fraction part: the even double, as for tensor data (docs/protocol.md).
        var body = """{"model_name":"m","parameters":{"c":275223515653727469568.0},"outputs":[]}"""u8.ToArray();

        var response = V2Json.ReadResponse(body, null, Limits);

        Assert.True(response.Parameters["c"].TryGetDouble(out var c));
        Assert.Equal(2.7522351565372745E+20, c);
    }

    [Fact]
    public void WriteResponse_Parameters_RoundTrip()
    {
        var response = new InferenceResponse
        {
            ModelName = "m",
            Parameters = new Dictionary<string, ParameterValue>
            {
                ["s"] = ParameterValue.FromString("v"),
                ["i"] = ParameterValue.FromInt64(-4),
                ["d"] = ParameterValue.FromDouble(0.25),
                ["b"] = ParameterValue.FromBoolean(true),
            },
            Outputs = [],
        };

        var read = V2Json.ReadResponse(V2Json.WriteResponse(response, false, null).Body, null, Limits);

        Assert.Equal(response.Parameters, read.Parameters);
    }
}
