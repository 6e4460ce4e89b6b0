using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Artifacts;

public sealed class ManifestJsonTests
{
    [Fact]
    public void Serialize_ThenParse_RoundTrips()
    {
        var package = TestPackages.CreditRisk("credit-risk", "3");

        var parsed = ManifestJson.Parse(package.ManifestJson.Span);

        Assert.Equal("credit-risk", parsed.Name);
        Assert.Equal("3", parsed.Version);
        Assert.Equal(TestPackages.Created, parsed.Created);
        Assert.Equal(KeyIds.Compute(TestPackages.Signer), parsed.SignerKeyId);
        Assert.Equal(package.Manifest.Files[ModelStoreLayout.ModelFile], parsed.Files[ModelStoreLayout.ModelFile]);
        Assert.Equal("features", parsed.Inputs[0].Name);
        Assert.Equal(TensorDataType.Fp32, parsed.Inputs[0].DataType);
        Assert.Equal([-1L, 4L], parsed.Inputs[0].Shape);
        Assert.Equal(ManifestJson.Serialize(parsed), package.ManifestJson.ToArray());
    }

    [Fact]
    public void Serialize_UsesCamelCaseAndWireDatatypes()
    {
        var json = Encoding.UTF8.GetString(TestPackages.CreditRisk("credit-risk", "1").ManifestJson.Span);

        Assert.Contains("\"signerKeyId\"", json, StringComparison.Ordinal);
        Assert.Contains("\"dataType\": \"FP32\"", json, StringComparison.Ordinal);
        Assert.Contains("\"model.onnx\"", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"name\"", "\"extra\": 1, \"name\"")]
    [InlineData("\"name\": \"credit-risk\"", "\"name\": \"credit-risk\", \"name\": \"credit-risk\"")]
    [InlineData("\"name\": \"credit-risk\",", "")]
    [InlineData("\"name\": \"credit-risk\"", "\"name\": \"../credit-risk\"")]
    [InlineData("\"dataType\": \"FP32\"", "\"dataType\": \"FLOAT\"")]
    [InlineData("\"size\": ", "\"size\": -")]
    [InlineData("\"platform\": \"onnxruntime_onnx\"", "\"platform\": \"tensorflow\"")]
    [InlineData("\"sha256\": \"", "\"sha256\": \"Z")]
    [InlineData("\"policy.json\"", "\"other.json\"")]
    [InlineData("\"schemaVersion\": 1,", "")]
    [InlineData("\"platform\": \"onnxruntime_onnx\",", "")]
    [InlineData("05+00:00\"", "05+02:00\"")]
    [InlineData("05+00:00\"", "05.5+00:00\"")]
    public void Parse_InvalidManifest_RefusedAsManifestFailure(string find, string replace)
    {
        var json = Encoding.UTF8.GetString(TestPackages.CreditRisk("credit-risk", "1").ManifestJson.Span);
        var altered = ReplaceFirst(json, find, replace);
        Assert.NotEqual(json, altered);

        var error = Assert.Throws<ModelVerificationException>(() => ManifestJson.Parse(Encoding.UTF8.GetBytes(altered)));

        Assert.Equal(ModelVerificationFailure.Manifest, error.Failure);
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        return at < 0 ? text : string.Concat(text.AsSpan(0, at), replace, text.AsSpan(at + find.Length));
    }
}
