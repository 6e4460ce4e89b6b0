using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Core.Tests.Defenses.Extraction;

public class ExtractionDetectorOptionsTests
{
    [Fact]
    public void Validator_Defaults_Succeed()
    {
        var result = new ExtractionDetectorOptionsValidator().Validate(null, new ExtractionDetectorOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validator_WindowBelowMinimum_FailsNamingIt()
    {
        var result = new ExtractionDetectorOptionsValidator().Validate(null, new ExtractionDetectorOptions { MinDistances = 300, DistanceWindow = 200 });

        Assert.True(result.Failed);
        Assert.Contains("DistanceWindow", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_OutOfDistributionMinimumAboveWindow_FailsNamingIt()
    {
        var result = new ExtractionDetectorOptionsValidator().Validate(
            null, new ExtractionDetectorOptions { OutOfDistributionMinRows = 250, OutOfDistributionWindow = 200 });

        Assert.True(result.Failed);
        Assert.Contains("OutOfDistributionMinRows", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(ExtractionDetectorOptions.Delta))]
    [InlineData(nameof(ExtractionDetectorOptions.CoverageBits))]
    [InlineData(nameof(ExtractionDetectorOptions.VolumeWindow))]
    [InlineData(nameof(ExtractionDetectorOptions.OutOfDistributionThreshold))]
    [InlineData(nameof(ExtractionDetectorOptions.OutOfDistributionWindow))]
    public void Validator_ValueOutOfRange_FailsNamingIt(string property)
    {
        var options = new ExtractionDetectorOptions();
        switch (property)
        {
            case nameof(ExtractionDetectorOptions.Delta):
                options.Delta = 0.2;
                break;
            case nameof(ExtractionDetectorOptions.CoverageBits):
                options.CoverageBits = 17;
                break;
            case nameof(ExtractionDetectorOptions.OutOfDistributionThreshold):
                options.OutOfDistributionThreshold = 0;
                break;
            case nameof(ExtractionDetectorOptions.OutOfDistributionWindow):
                options.OutOfDistributionWindow = 5000;
                break;
            default:
                options.VolumeWindow = TimeSpan.FromDays(2);
                break;
        }

        var result = new ExtractionDetectorOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(property, result.FailureMessage, StringComparison.Ordinal);
    }
}
