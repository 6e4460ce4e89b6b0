using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Artifacts;

/// <summary>A version whose policy screens for out-of-distribution inputs carries its training profile, signed.</summary>
public sealed class ProfilePackagingTests
{
    private static readonly byte[] Model = DigitsSample.BuildModel();

    private static byte[] Policy(double percentile = 99.5) => Encoding.UTF8.GetBytes(
        """{"schemaVersion":1,"maxBatch":4,"defenses":{"ood":{"mode":"enforce","input":"pixels","percentile":"""
        + percentile.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}}}");

    private static string TrainingCsv() =>
        string.Join('\n', DigitsData.Load().Train.Rows().Select(r => string.Join(',', r.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))));

    [Fact]
    public void ProfileFor_DigitsTrainingRows_ThresholdAtThePolicysPercentile()
    {
        var profile = InputProfile.Parse(ModelPackager.ProfileFor(Model, Policy(), new StringReader(TrainingCsv())));

        Assert.Equal("pixels", profile.Input);
        Assert.Equal(64, profile.Features);
        Assert.Equal(DigitsData.Load().Train.Count, profile.Rows);
        var screen = new MahalanobisScreen(profile);
        var above = DigitsData.Load().Train.Rows().Count(r => screen.Distance(r) > profile.Threshold);
        Assert.InRange(above, 1, 10);
    }

    [Fact]
    public void Pack_OodPolicyWithItsProfile_PinsTheProfile()
    {
        var profile = ModelPackager.ProfileFor(Model, Policy(), new StringReader(TrainingCsv()));

        var package = ModelPackager.Pack("digits", "1", Model, Policy(), TestPackages.Signer, TestPackages.Created, profile);

        Assert.Equal(ModelPackager.Sha256Hex(profile), package.Manifest.Files[ModelStoreLayout.ProfileFile].Sha256);
    }

    [Fact]
    public void Pack_OodPolicyWithoutProfile_Refused()
    {
        var error = Assert.Throws<ModelVerificationException>(() => ModelPackager.Pack("digits", "1", Model, Policy(), TestPackages.Signer, TestPackages.Created));

        Assert.Equal(ModelVerificationFailure.Policy, error.Failure);
    }

    [Fact]
    public void Pack_ProfileTakenAtAnotherPercentile_Refused()
    {
        var profile = ModelPackager.ProfileFor(Model, Policy(99), new StringReader(TrainingCsv()));

        Assert.Throws<ModelVerificationException>(() => ModelPackager.Pack("digits", "1", Model, Policy(), TestPackages.Signer, TestPackages.Created, profile));
    }

    [Fact]
    public void ProfileFor_RowsOfTheWrongWidth_Refused() =>
        Assert.Throws<FormatException>(() => ModelPackager.ProfileFor(Model, Policy(), new StringReader("1,2,3\n4,5,6\n7,8,9")));

    [Fact]
    public async Task PackDirectoryAsync_NoProfileGivenOrInTheFolder_PinsTwoFiles()
    {
        var folder = Directory.CreateTempSubdirectory("ss-noprofile-").FullName;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(folder, ModelStoreLayout.ModelFile), Model);
            await File.WriteAllBytesAsync(Path.Combine(folder, ModelStoreLayout.PolicyFile), Encoding.UTF8.GetBytes("""{"schemaVersion":1,"maxBatch":4}"""));

            var package = await ModelPackager.PackDirectoryAsync(folder, "digits", "1", TestPackages.Signer, TestPackages.Created, profile: null);

            Assert.Equal([ModelStoreLayout.ModelFile, ModelStoreLayout.PolicyFile], package.Manifest.Files.Keys.Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
