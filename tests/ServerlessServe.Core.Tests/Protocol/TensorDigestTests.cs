using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

public class TensorDigestTests
{
    private static readonly ProtocolLimits Limits = new();

    [Fact]
    public void Compute_JsonAndBinaryEncodingsOfSameRequest_HashEqual()
    {
        var tensors = SampleTensors.AllTypes.Select(t => SampleTensors.For(t, t.ToWire())).ToArray();
        var request = new InferenceRequest { Inputs = tensors };

        var json = V2Json.WriteRequest(request, binaryInputs: false, binaryOutputs: false);
        var binary = V2Json.WriteRequest(request, binaryInputs: true, binaryOutputs: false);
        var fromJson = V2Json.ReadRequest(json.Body, json.HeaderLength, Limits);
        var fromBinary = V2Json.ReadRequest(binary.Body, binary.HeaderLength, Limits);

        var expected = TensorDigest.Compute(tensors);
        Assert.Equal(expected, TensorDigest.Compute(fromJson.Inputs));
        Assert.Equal(expected, TensorDigest.Compute(fromBinary.Inputs));
        Assert.Matches("^[0-9a-f]{64}$", expected);
    }

    [Fact]
    public void Compute_NestedAndFlatData_HashEqual()
    {
        var nested = ProtocolAssert.Read(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[[1,2],[3,4]]"));
        var flat = ProtocolAssert.Read(ProtocolAssert.OneInput("\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP32\",\"data\":[1,2,3,4]"));

        Assert.Equal(TensorDigest.Compute(flat.Inputs), TensorDigest.Compute(nested.Inputs));
    }

    [Fact]
    public void Compute_OrderOfTensors_DoesNotMatter()
    {
        var a = new Tensor("a", TensorDataType.Int32, [1], new[] { 1 });
        var b = new Tensor("b", TensorDataType.Int32, [1], new[] { 2 });

        Assert.Equal(TensorDigest.Compute([a, b]), TensorDigest.Compute([b, a]));
    }

    [Fact]
    public void Compute_AnyDifference_ChangesHash()
    {
        var baseline = TensorDigest.Compute([new Tensor("a", TensorDataType.Int32, [2], new[] { 1, 2 })]);

        string[] variants =
        [
            TensorDigest.Compute([new Tensor("b", TensorDataType.Int32, [2], new[] { 1, 2 })]),
            TensorDigest.Compute([new Tensor("a", TensorDataType.UInt32, [2], new uint[] { 1, 2 })]),
            TensorDigest.Compute([new Tensor("a", TensorDataType.Int32, [1, 2], new[] { 1, 2 })]),
            TensorDigest.Compute([new Tensor("a", TensorDataType.Int32, [2], new[] { 1, 3 })]),
            TensorDigest.Compute([new Tensor("a", TensorDataType.Int32, [2], new[] { 1, 2 }), new Tensor("c", TensorDataType.Int32, [0], Array.Empty<int>())]),
        ];

        Assert.All(variants, v => Assert.NotEqual(baseline, v));
        Assert.Equal(variants.Length, variants.Distinct().Count());
    }

    [Fact]
    public void Compute_BytesElementBoundaries_AreUnambiguous()
    {
        var split1 = new Tensor("s", TensorDataType.Bytes, [2], new[] { "ab"u8.ToArray(), "c"u8.ToArray() });
        var split2 = new Tensor("s", TensorDataType.Bytes, [2], new[] { "a"u8.ToArray(), "bc"u8.ToArray() });

        Assert.NotEqual(TensorDigest.Compute([split1]), TensorDigest.Compute([split2]));
    }
}
