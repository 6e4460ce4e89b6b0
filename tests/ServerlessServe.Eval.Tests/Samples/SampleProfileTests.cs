using System.Globalization;
using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Eval.Tests.Samples;

public sealed class SampleProfileTests
{
    [Fact]
    public void BuildProfile_Digits_SameBytesAsPublishingWithTheTrainingSplitAsCsv()
    {
        var train = DigitsData.Load().Train;
        var csv = new StringBuilder("pixels,label\n");
        for (var r = 0; r < train.Count; r++)
        {
            csv.AppendLine(string.Join(',', train.Row(r).Select(p => p.ToString(CultureInfo.InvariantCulture))) + "," + train.Labels[r].ToString(CultureInfo.InvariantCulture));
        }

        var published = ModelPackager.ProfileFor(DigitsSample.BuildModel(), SampleModels.GetPolicy(DigitsSample.Name), new StringReader(csv.ToString()));

        Assert.Equal(published, SampleModels.BuildProfile(DigitsSample.Name));
    }

    [Fact]
    public void BuildProfile_Digits_TheOodScreensInputAndPercentile()
    {
        var profile = InputProfile.Parse(SampleModels.BuildProfile(DigitsSample.Name));
        var policy = Core.Policy.PolicyLoader.Parse(SampleModels.GetPolicy(DigitsSample.Name));

        Assert.Equal(policy.Defenses!.Ood!.Input, profile.Input);
        Assert.Equal(policy.Defenses.Ood.Percentile, profile.Percentile);
        Assert.Equal(DigitsData.Load().Train.Count, profile.Rows);
    }

    [Theory]
    [InlineData(CreditRiskSample.Name)]
    [InlineData(CustomerNotesSample.Name)]
    public void BuildProfile_NoOodScreen_Null(string model)
    {
        Assert.Null(SampleModels.BuildProfile(model));
    }
}
