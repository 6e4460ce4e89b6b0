using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Artifacts;

public sealed class ModelPackagerTests
{
    [Fact]
    public void Pack_CreditRisk_PinsFilesAndSignsManifestBytes()
    {
        var package = TestPackages.CreditRisk("credit-risk", "1");
        using var trusted = TestPackages.Trusted();

        Assert.Equal(ModelPackager.Sha256Hex(TestPackages.CreditRiskModel), package.Manifest.Files[ModelStoreLayout.ModelFile].Sha256);
        Assert.Equal(TestPackages.CreditRiskModel.Length, package.Manifest.Files[ModelStoreLayout.ModelFile].Size);
        Assert.Equal(ModelPackager.Sha256Hex(package.ManifestJson.Span), package.ManifestDigest);
        Assert.Equal(KeyIds.Compute(TestPackages.Signer), ManifestSignature.Verify(package.ManifestJson.Span, Encoding.ASCII.GetBytes(package.Signature), trusted));
        Assert.Equal(package.Files.Sum(f => (long)f.Content.Length), package.ContentBytes);
    }

    [Fact]
    public async Task PackDirectoryAsync_SampleFolder_IntrospectsTheGraph()
    {
        var folder = Directory.CreateTempSubdirectory("ss-pack-").FullName;
        try
        {
            var samples = await SampleModels.WriteAllAsync(folder);
            var notes = samples.Single(s => s.Name == CustomerNotesSample.Name);

            var package = await ModelPackager.PackDirectoryAsync(notes.Directory, notes.Name, notes.Version, TestPackages.Signer, TestPackages.Created);

            Assert.Equal("customer_id", package.Manifest.Inputs.Single().Name);
            Assert.Equal(TensorDataType.Bytes, package.Manifest.Outputs.Single().DataType);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Pack_PolicyNamingUnknownOutput_Refused()
    {
        var policy = """{"schemaVersion":1,"maxBatch":2,"outputs":{"logits":{"mode":"scores"}}}"""u8.ToArray();

        var error = Assert.Throws<PolicyException>(() =>
            ModelPackager.Pack("credit-risk", "1", TestPackages.CreditRiskModel, policy, TestPackages.Signer, TestPackages.Created));

        Assert.Equal("/outputs/logits", error.PolicyPath);
    }

    [Fact]
    public void Pack_ExternalData_Refused()
    {
        var error = Assert.Throws<ModelVerificationException>(() => ModelPackager.Pack(
            "credit-risk", "1", TestPackages.CreditRiskWithExternalWeights(), SampleModels.GetPolicy(CreditRiskSample.Name), TestPackages.Signer, TestPackages.Created));

        Assert.Equal(ModelVerificationFailure.ExternalData, error.Failure);
    }

    [Theory]
    [InlineData("../credit-risk", "1")]
    [InlineData("credit-risk", "1/../2")]
    public void Pack_InvalidNameOrVersion_Refused400(string name, string version)
    {
        var error = Assert.Throws<RefusedException>(() => ModelPackager.Pack(
            name, version, TestPackages.CreditRiskModel, SampleModels.GetPolicy(CreditRiskSample.Name), TestPackages.Signer, TestPackages.Created));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
    }
}
