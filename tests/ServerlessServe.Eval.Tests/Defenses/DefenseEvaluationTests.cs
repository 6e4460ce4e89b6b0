using System.Globalization;
using System.Text.Json;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Eval.Defenses;
using ServerlessServe.Eval.Tests.Fixtures;
using ServerlessServe.Local.Samples;
using Xunit.Abstractions;

namespace ServerlessServe.Eval.Tests.Defenses;

public sealed partial class DefenseEvaluationTests(DefenseEvaluationFixture evaluation, ITestOutputHelper output) : IClassFixture<DefenseEvaluationFixture>
{
    private DefenseReport Report => evaluation.Report;

    [Fact]
    public void Ood_SaturatedAndNoise_FlaggedAtEveryPercentile()
    {
        foreach (var percentile in Report.Ood.Percentiles)
        {
            var sets = percentile.Foreign.ToDictionary(f => f.Name);
            Assert.Equal(new Rate(1, 1), sets[ForeignSets.Saturated].Flagged);
            Assert.Equal(new Rate(ForeignSets.NoiseRows, ForeignSets.NoiseRows), sets[ForeignSets.Noise].Flagged);
        }
    }

    [Fact]
    public void Ood_ForeignShares_MatchARecountWithTheCoreScreen()
    {
        var split = DigitsData.Load();
        var chosen = Report.Ood.Chosen;
        var screen = new MahalanobisScreen(InputProfileBuilder.Build(DigitsSample.InputName, split.Train.Rows(), chosen.Percentile));
        var foreign = ForeignSets.Build(split.Test);

        Assert.Equal([ForeignSets.Noise, ForeignSets.Blank, ForeignSets.Saturated, ForeignSets.Inverted, ForeignSets.BreastCancer], chosen.Foreign.Select(f => f.Name));
        Assert.Equal([500, 1, 1, 445, 569], chosen.Foreign.Select(f => f.Flagged.Total));
        foreach (var set in foreign)
        {
            var flagged = set.Rows.Count(r => screen.Distance(r) > screen.Profile.Threshold);
            Assert.Equal(new Rate(flagged, set.Rows.Count), chosen.Foreign.Single(f => f.Name == set.Name).Flagged);
        }

        Assert.Equal(chosen.Foreign.Sum(f => f.Flagged.Count), chosen.ForeignFlagged.Count);
        Assert.Equal(1516, chosen.ForeignFlagged.Total);
        Assert.Equal(split.Test.Rows().Count(r => screen.Distance(r) > screen.Profile.Threshold), chosen.HeldOutFlagged.Count);
    }

    /// <summary>The targets for the screen: ≥ 99 % of foreign rows at ≤ 1 % of held-out digits (measured: 99.93 % at 0.22 %).</summary>
    [Fact]
    public void Ood_ChosenPercentile_MeetsTheTargets()
    {
        var chosen = Report.Ood.Chosen;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"percentile {chosen.Percentile}: held-out {chosen.HeldOutFlagged.Value:P2}, foreign {chosen.ForeignFlagged.Value:P2}"));

        Assert.True(chosen.HeldOutFlagged.Value <= 0.01);
        Assert.True(chosen.ForeignFlagged.Value >= 0.99);
        Assert.True(Report.Ood.TargetsMet);
    }

    [Fact]
    public void Squeeze_EveryConfiguration_TrainingFalsePositivesWithinFivePercentAtAFourDecimalThreshold()
    {
        var train = DigitsData.Load().Train.Count;
        foreach (var configuration in Report.Squeeze.Configurations)
        {
            Assert.Equal(train, configuration.TrainingFalsePositives.Total);
            Assert.True(configuration.TrainingFalsePositives.Value <= 0.05, configuration.Configuration.Name);
            Assert.Equal(Math.Round(configuration.Threshold, 4), configuration.Threshold);
        }
    }

    [Fact]
    public void Squeeze_Detections_CountedOverSuccessfulTestExamplesOnly()
    {
        var test = Report.Squeeze.Attacks.Where(a => a.Split == "test").ToArray();
        Assert.Equal(8, test.Length);
        foreach (var configuration in Report.Squeeze.Configurations)
        {
            Assert.Equal(test.Select(a => (a.Attack, a.Epsilon, a.Successful)), configuration.Detections.Select(d => (d.Attack, d.Epsilon, d.Detected.Total)));
            Assert.Equal(test.Sum(a => a.Successful), configuration.TestDetected.Total);
        }

        Assert.All(Report.Squeeze.Attacks, a => Assert.InRange(a.Successful, 0, a.CleanCorrect));
        Assert.All(test, a => Assert.Equal(DigitsData.Load().Test.Count, a.Rows));
    }

    [Fact]
    public void Squeeze_Recommended_TheJointConfigurationDetectingMostTrainingExamples()
    {
        var joint = Report.Squeeze.Configurations.Where(c => c.Configuration.Joint).ToArray();
        var recommended = Report.Squeeze.RecommendedResult;

        Assert.True(recommended.Configuration.Joint);
        Assert.Equal(joint.Max(c => c.TrainingDetected.Value), recommended.TrainingDetected.Value);
        Assert.Equal(recommended.Threshold, Report.Squeeze.RecommendedPolicy.Threshold);
        Assert.True(recommended.Configuration.Matches(Report.Squeeze.RecommendedPolicy.Squeezers));
        Assert.Equal(DefenseMode.Shadow, Report.Squeeze.RecommendedPolicy.Mode);
    }

    /// <summary>
    /// The calibration in samples/digits/policy.json is what the evaluation recommends today: a change to the model, the
    /// data or the squeezing code that moves it fails here, so the sample policy cannot drift from the evaluation.
    /// </summary>
    [Fact]
    public void SamplePolicy_Defenses_EqualTheRecomputedCalibration()
    {
        var defenses = Core.Policy.PolicyLoader.Parse(SampleModels.GetPolicy(DigitsSample.Name)).Defenses;
        var recommended = Report.Squeeze.RecommendedPolicy;

        Assert.NotNull(defenses?.Ood);
        Assert.Equal(DefenseMode.Enforce, defenses.Ood.Mode);
        Assert.Equal(DigitsSample.InputName, defenses.Ood.Input);
        Assert.Equal(Report.Ood.ChosenPercentile, defenses.Ood.Percentile);
        var squeeze = Assert.IsType<Core.Policy.SqueezePolicy>(defenses.Squeeze);
        Assert.Equal(recommended.Squeezers, squeeze.Squeezers);
        Assert.Equal(recommended.Threshold, squeeze.Threshold);
        Assert.Equal((recommended.Input, recommended.Output, recommended.InputMax), (squeeze.Input, squeeze.Output, squeeze.InputMax));
        Assert.Equal(recommended.Image, squeeze.Image);
        Assert.Equal(DefenseMode.Shadow, squeeze.Mode);
    }

    [Fact]
    public void Accuracy_Defenses_NoneMatchesOnnxRuntimeAndEnforcingNeverGainsAccuracy()
    {
        var test = DigitsData.Load().Test;
        using var session = new DigitsSession();
        var predictions = session.Predict(test.Rows());
        var correct = Enumerable.Range(0, test.Count).Count(i => predictions[i] == test.Labels[i]);

        var none = Report.Accuracy[0];
        Assert.Equal("none", none.Defenses);
        Assert.Equal(new Rate(correct, test.Count), none.Accuracy);
        Assert.Equal(0, none.FalsePositives.Count);
        Assert.All(Report.Accuracy, a => Assert.InRange(a.Accuracy.Count, correct - a.FalsePositives.Count, correct));
        Assert.Equal(Report.Ood.Chosen.HeldOutFlagged, Report.Accuracy[1].FalsePositives);
        Assert.Equal(Report.Squeeze.RecommendedResult.TestFalsePositives, Report.Accuracy[2].FalsePositives);
    }

    [Fact]
    public void ToJson_Report_CamelCaseWithPolicyNames()
    {
        using var json = JsonDocument.Parse(Report.ToJson());

        var squeeze = json.RootElement.GetProperty("squeeze");
        Assert.Equal(Report.Squeeze.Recommended, squeeze.GetProperty("recommended").GetString());
        var policy = squeeze.GetProperty("recommendedPolicy");
        Assert.Equal("shadow", policy.GetProperty("mode").GetString());
        Assert.Equal("bitDepth", policy.GetProperty("squeezers")[0].GetProperty("kind").GetString());
        Assert.Equal(Report.Squeeze.RecommendedPolicy.Threshold, policy.GetProperty("threshold").GetDouble());
        Assert.Equal(Report.Ood.ChosenPercentile, json.RootElement.GetProperty("ood").GetProperty("chosenPercentile").GetDouble());
        Assert.False(json.RootElement.TryGetProperty("cost", out _));
    }

    [Fact]
    public void Write_Result_FourPngFiles()
    {
        var folder = Directory.CreateTempSubdirectory("ss-plots-").FullName;
        try
        {
            var files = DefensePlots.Write(evaluation.Result, folder);

            Assert.Equal(
                [DefensePlots.OodFile, DefensePlots.SqueezeFile, DefensePlots.ExtractionFile, DefensePlots.ExtractionOodFile], files.Select(Path.GetFileName));
            foreach (var file in files)
            {
                var bytes = File.ReadAllBytes(file);
                Assert.True(bytes.Length > 1000);
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Layered_EitherDefenseStopsWhatEachDoes_OverTheSuccessfulExamplesOnly()
    {
        var detections = evaluation.Report.Squeeze.Configurations.Single(c => c.Configuration.Name == evaluation.Report.Squeeze.Recommended).Detections;

        Assert.Equal(detections.Count, evaluation.Report.Layered.Count);
        foreach (var layered in evaluation.Report.Layered)
        {
            var squeeze = detections.Single(d => d.Attack == layered.Attack && d.Epsilon == layered.Epsilon);
            Assert.Equal(squeeze.Detected, layered.Squeeze);
            Assert.Equal(layered.Either.Total, layered.Ood.Total);
            Assert.True(layered.Either.Count >= Math.Max(layered.Ood.Count, layered.Squeeze.Count));
            Assert.True(layered.Either.Count <= layered.Ood.Count + layered.Squeeze.Count);
        }
    }
}
