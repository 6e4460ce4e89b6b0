using System.Text;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Validation;

namespace ServerlessServe.Core.Tests.Validation;

public class RequestValidatorTests
{
    private static readonly TensorSpec[] Inputs =
    [
        new("features", TensorDataType.Fp32, [-1, 3]),
        new("note", TensorDataType.Bytes, [-1]),
    ];

    private static readonly TensorSpec[] Outputs = [new("scores", TensorDataType.Fp32, [-1, 2])];

    private static readonly ModelPolicy Policy = new()
    {
        MaxBatch = 4,
        Inputs = new Dictionary<string, InputRule>
        {
            ["features"] = new() { Min = -10, Max = 10 },
            ["note"] = new() { MaxBytesLength = 16 },
        },
    };

    [Fact]
    public void Validate_ConformingRequest_ReturnsSummary()
    {
        var summary = RequestValidator.Validate(Request(Features(2, 1f, -10f, 10f, 0f, 0.5f, 9.99f), Notes(2)), Inputs, Outputs, Policy);

        Assert.Equal(new ValidationSummary(2, 8, 2), summary);
    }

    [Fact]
    public void Validate_InputsInAnyOrder_Accepted()
    {
        RequestValidator.Validate(Request(Notes(1), Features(1, 0f, 0f, 0f)), Inputs, Outputs, Policy);
    }

    [Fact]
    public void Validate_MissingInput_Refused400NamingDeclaredInput()
    {
        var error = Refused(Request(Features(1, 0f, 0f, 0f)));

        Assert.Equal("input 'note' is missing", error.Message);
    }

    [Fact]
    public void Validate_ExtraInput_Refused400WithoutEchoingName()
    {
        var extra = new Tensor("secret-token-xyz", TensorDataType.Fp32, [1], new[] { 1f });

        var error = Refused(Request(Features(1, 0f, 0f, 0f), Notes(1), extra));

        Assert.Equal("inputs[2]: not an input of this model", error.Message);
    }

    [Fact]
    public void Validate_DuplicateInput_Refused400()
    {
        Refused(Request(Features(1, 0f, 0f, 0f), Notes(1), Features(1, 0f, 0f, 0f)));
    }

    [Fact]
    public void Validate_WrongDatatype_Refused400()
    {
        var wrong = new Tensor("features", TensorDataType.Fp64, [1, 3], new[] { 0.0, 0.0, 0.0 });

        var error = Refused(Request(wrong, Notes(1)));

        Assert.Equal("input 'features': datatype must be FP32", error.Message);
    }

    [Fact]
    public void Validate_WrongRank_Refused400()
    {
        var wrong = new Tensor("features", TensorDataType.Fp32, [3], new[] { 0f, 0f, 0f });

        Refused(Request(wrong, Notes(1)));
    }

    [Fact]
    public void Validate_WrongFixedDimension_Refused400()
    {
        var wrong = new Tensor("features", TensorDataType.Fp32, [1, 4], new[] { 0f, 0f, 0f, 0f });

        var error = Refused(Request(wrong, Notes(1)));

        Assert.Equal("input 'features': dimension 1 must be 3", error.Message);
    }

    [Fact]
    public void Validate_BatchOverPolicy_Refused400()
    {
        var error = Refused(Request(Features(5, new float[15]), Notes(1)));

        Assert.Contains("batch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BatchAtPolicyLimit_Accepted()
    {
        var summary = RequestValidator.Validate(Request(Features(4, new float[12]), Notes(4)), Inputs, Outputs, Policy);

        Assert.Equal(4, summary.BatchSize);
    }

    [Fact]
    public void Validate_FixedFirstDimension_NotBatchLimited()
    {
        TensorSpec[] fixedInputs = [new("image", TensorDataType.UInt8, [8, 2])];

        RequestValidator.Validate(new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.UInt8, [8, 2], new byte[16])] }, fixedInputs, [], Policy);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void Validate_NonFiniteFloat_Refused400(float value)
    {
        var error = Refused(Request(Features(1, 0f, value, 0f), Notes(1)));

        Assert.Contains("finite", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NonFiniteWithoutPolicyRule_Refused400()
    {
        TensorSpec[] specs = [new("x", TensorDataType.Fp64, [-1]), new("h", TensorDataType.Fp16, [-1])];
        var request = new InferenceRequest
        {
            Inputs = [new Tensor("x", TensorDataType.Fp64, [1], new[] { 1.0 }), new Tensor("h", TensorDataType.Fp16, [1], new[] { Half.NaN })],
        };

        Refused(request, specs, new ModelPolicy());
    }

    [Fact]
    public void Validate_NaNInLongVector_FoundBySimdPath()
    {
        var values = new float[3 * 4];
        values[^1] = float.NaN;

        Refused(Request(Features(4, values), Notes(4)));
    }

    [Theory]
    [InlineData(10.001f)]
    [InlineData(-987654321f)]
    public void Validate_FloatOutsidePolicyRange_Refused400WithoutValue(float value)
    {
        var values = new float[12];
        values[7] = value;

        var error = Refused(Request(Features(4, values), Notes(4)));

        Assert.Equal("input 'features': a value is outside the range the policy allows", error.Message);
        ProtocolAssertNoEcho(error.Message, "987654321", "10.001");
    }

    [Theory]
    [InlineData(-6, false)]
    [InlineData(-5, true)]
    [InlineData(250, true)]
    [InlineData(251, false)]
    public void Validate_IntegerPolicyBoundsInclusive(long value, bool accepted)
    {
        TensorSpec[] specs = [new("ids", TensorDataType.Int64, [-1])];
        var policy = new ModelPolicy { MaxBatch = 100, Inputs = new Dictionary<string, InputRule> { ["ids"] = new() { Min = -5, Max = 250 } } };
        var data = Enumerable.Repeat(0L, 33).ToArray();
        data[^1] = value;
        var request = new InferenceRequest { Inputs = [new Tensor("ids", TensorDataType.Int64, [33], data)] };

        if (accepted)
        {
            RequestValidator.Validate(request, specs, [], policy);
        }
        else
        {
            Refused(request, specs, policy);
        }
    }

    [Fact]
    public void Validate_FractionalBoundsOnIntegers_RoundInwards()
    {
        TensorSpec[] specs = [new("b", TensorDataType.UInt8, [-1])];
        var policy = new ModelPolicy { MaxBatch = 10, Inputs = new Dictionary<string, InputRule> { ["b"] = new() { Min = 0.5, Max = 2.5 } } };

        RequestValidator.Validate(new InferenceRequest { Inputs = [new Tensor("b", TensorDataType.UInt8, [2], new byte[] { 1, 2 })] }, specs, [], policy);
        Refused(new InferenceRequest { Inputs = [new Tensor("b", TensorDataType.UInt8, [1], new byte[] { 0 })] }, specs, policy);
        Refused(new InferenceRequest { Inputs = [new Tensor("b", TensorDataType.UInt8, [1], new byte[] { 3 })] }, specs, policy);
    }

    [Fact]
    public void Validate_BoundsBeyondIntegerType_RefuseEveryValue()
    {
        TensorSpec[] specs = [new("b", TensorDataType.Int8, [-1])];
        var policy = new ModelPolicy { MaxBatch = 10, Inputs = new Dictionary<string, InputRule> { ["b"] = new() { Min = 200 } } };

        Refused(new InferenceRequest { Inputs = [new Tensor("b", TensorDataType.Int8, [1], new sbyte[] { 127 })] }, specs, policy);
    }

    [Fact]
    public void Validate_FloatBoundNotExactlyRepresentable_IsExact()
    {
        TensorSpec[] specs = [new("x", TensorDataType.Fp32, [-1])];
        var policy = new ModelPolicy { MaxBatch = 10, Inputs = new Dictionary<string, InputRule> { ["x"] = new() { Max = 0.1 } } };

        // (float)0.1 is slightly above 0.1 as a double, so it must be refused; the next float down is allowed.
        Refused(new InferenceRequest { Inputs = [new Tensor("x", TensorDataType.Fp32, [1], new[] { 0.1f })] }, specs, policy);
        RequestValidator.Validate(new InferenceRequest { Inputs = [new Tensor("x", TensorDataType.Fp32, [1], new[] { MathF.BitDecrement(0.1f) })] }, specs, [], policy);
    }

    [Fact]
    public void Validate_BytesOverPolicyLength_Refused400()
    {
        var note = new Tensor("note", TensorDataType.Bytes, [1], new[] { Encoding.UTF8.GetBytes("secret-token-xyz-over-16") });

        var error = Refused(Request(Features(1, 0f, 0f, 0f), note));

        ProtocolAssertNoEcho(error.Message, "secret-token-xyz");
    }

    [Fact]
    public void Validate_UnknownRequestedOutput_Refused400()
    {
        var request = new InferenceRequest
        {
            Inputs = [Features(1, 0f, 0f, 0f), Notes(1)],
            Outputs = [new RequestedOutput("scores"), new RequestedOutput("secret-token-xyz")],
        };

        var error = Refused(request);

        Assert.Equal("outputs[1]: not an output of this model", error.Message);
    }

    [Fact]
    public void Validate_ParsedJsonRequest_EndToEnd()
    {
        var request = V2Json.ReadRequest(
            """{"inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[[1,2,3]]},{"name":"note","shape":[1],"datatype":"BYTES","data":["hi"]}],"outputs":[{"name":"scores"}]}"""u8,
            null,
            new ProtocolLimits());

        Assert.Equal(4, RequestValidator.Validate(request, Inputs, Outputs, Policy).ElementCount);
    }

    private static InferenceRequest Request(params Tensor[] inputs) => new() { Inputs = inputs };

    private static Tensor Features(int batch, params float[] values) => new("features", TensorDataType.Fp32, [batch, 3], values);

    private static Tensor Notes(int batch) =>
        new("note", TensorDataType.Bytes, [batch], Enumerable.Range(0, batch).Select(_ => "ok"u8.ToArray()).ToArray());

    private static RefusedException Refused(InferenceRequest request) => Refused(request, Inputs, Policy);

    private static RefusedException Refused(InferenceRequest request, IReadOnlyList<TensorSpec> inputs, ModelPolicy policy)
    {
        var error = Assert.Throws<RefusedException>(() => RequestValidator.Validate(request, inputs, Outputs, policy));
        Assert.Equal(RefusalKind.Invalid, error.Kind);
        ProtocolAssertNoEcho(error.Message, "secret-token-xyz");
        return error;
    }

    private static void ProtocolAssertNoEcho(string message, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, message, StringComparison.Ordinal);
        }
    }
}
