using System.Text;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Protocol;

public class V2JsonMetadataTests
{
    [Fact]
    public void WriteModelMetadata_WritesV2Shape()
    {
        var metadata = new ModelMetadata
        {
            Name = "iris",
            Versions = ["1", "2"],
            Platform = "onnxruntime_onnx",
            Inputs = [new TensorSpec("features", TensorDataType.Fp32, [-1, 4])],
            Outputs = [new TensorSpec("scores", TensorDataType.Fp32, [-1, 3])],
        };

        var json = Encoding.UTF8.GetString(V2Json.WriteModelMetadata(metadata));

        Assert.Equal(
            """{"name":"iris","versions":["1","2"],"platform":"onnxruntime_onnx","inputs":[{"name":"features","datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"scores","datatype":"FP32","shape":[-1,3]}]}""",
            json);
    }

    [Fact]
    public void WriteServerMetadata_WritesV2Shape()
    {
        var json = Encoding.UTF8.GetString(V2Json.WriteServerMetadata(new ServerMetadata { Name = "serverlessserve", Version = "0.1.0", Extensions = ["binary_tensor_data"] }));

        Assert.Equal("""{"name":"serverlessserve","version":"0.1.0","extensions":["binary_tensor_data"]}""", json);
    }

    [Fact]
    public void WriteError_EscapesMessage()
    {
        var json = Encoding.UTF8.GetString(V2Json.WriteError("inputs[0]: \"quoted\" it's\n"));

        Assert.Equal("{\"error\":\"inputs[0]: \\\"quoted\\\" it's\\n\"}", json);
        using var parsed = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal("inputs[0]: \"quoted\" it's\n", parsed.RootElement.GetProperty("error").GetString());
    }
}
