using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Serving;

/// <summary>The screen and squeeze stages on a signed digits version: what each decides, records and refuses.</summary>
public sealed class DefenseStagesTests
{
    private static readonly Lazy<VerifiedModelVersion> Version = new(Build);

    [Theory]
    [InlineData("enforce", false)]
    [InlineData("shadow", true)]
    public async Task Screen_SaturatedImage_FlaggedAndRefusedOnlyWhenEnforcing(string mode, bool passes)
    {
        var context = Context(Version.Value with { Policy = WithModes(mode, "shadow") }, Enumerable.Repeat(16f, 64).ToArray());

        var outcome = await new ScreenInput().RunAsync(context, CancellationToken.None);

        Assert.Equal(passes, outcome.Passed);
        var finding = Assert.Single(context.Defenses);
        Assert.Equal("ood", finding.Defense);
        Assert.True(finding.Flagged);
        Assert.Equal(Version.Value.Profile!.Threshold, finding.Threshold);
        if (!passes)
        {
            Assert.Same(DefenseRefusal.Refused, outcome.Refusal);
        }
    }

    [Fact]
    public async Task Screen_HeldOutDigit_PassesWithItsScore()
    {
        var context = Context(Version.Value, DigitsData.Load().Test.Row(0));

        var outcome = await new ScreenInput().RunAsync(context, CancellationToken.None);

        Assert.True(outcome.Passed);
        var finding = Assert.Single(context.Defenses);
        Assert.False(finding.Flagged);
        Assert.InRange(finding.Score, 0.1, finding.Threshold);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData(0.5, true)]
    [InlineData(0.01, false)]
    public async Task Squeeze_ReportedScore_HeldToThePolicysThreshold_MissingScoreFlags(double? score, bool flagged)
    {
        var context = Context(Version.Value with { Policy = WithModes("shadow", "enforce") }, DigitsData.Load().Test.Row(0));
        context.Inferred = new InferenceResponse
        {
            ModelName = DigitsSample.Name,
            Parameters = score is { } s ? new Dictionary<string, ParameterValue> { [FeatureSqueezing.ScoreParameter] = ParameterValue.FromDouble(s) } : new Dictionary<string, ParameterValue>(),
            Outputs = [],
        };

        var outcome = await new DetectAdversarial().RunAsync(context, CancellationToken.None);

        Assert.Equal(!flagged, outcome.Passed);
        var finding = Assert.Single(context.Defenses);
        Assert.Equal("squeeze", finding.Defense);
        Assert.Equal(flagged, finding.Flagged);
    }

    [Fact]
    public async Task Stages_PolicyWithoutDefenses_PassAndRecordNothing()
    {
        var context = Context(Version.Value with { Policy = Version.Value.Policy with { Defenses = null } }, Enumerable.Repeat(16f, 64).ToArray());

        Assert.True((await new ScreenInput().RunAsync(context, CancellationToken.None)).Passed);
        Assert.Empty(context.Defenses);
    }

    private static ModelPolicy WithModes(string ood, string squeeze)
    {
        var policy = Version.Value.Policy;
        var mode = (string m) => m == "enforce" ? DefenseMode.Enforce : DefenseMode.Shadow;
        return policy with
        {
            Defenses = new DefensePolicy
            {
                Ood = policy.Defenses!.Ood! with { Mode = mode(ood) },
                Squeeze = policy.Defenses.Squeeze! with { Mode = mode(squeeze), Threshold = 0.2 },
            },
        };
    }

    private static InferenceContext Context(VerifiedModelVersion version, float[] pixels) => new("r1", DigitsSample.Name, null, "infer")
    {
        Model = version,
        Request = new InferenceRequest { Inputs = [new Tensor("pixels", TensorDataType.Fp32, [1, 64], pixels)] },
    };

    // The digits sample as ssctl publishes it: its policy and the profile of its training rows (SampleProfileTests
    // shows it equal to publishing with --training-data), signed and read back.
    private static VerifiedModelVersion Build()
    {
        var model = DigitsSample.BuildModel();
        var policy = SampleModels.GetPolicy(DigitsSample.Name);
        var profile = SampleModels.BuildProfile(DigitsSample.Name)!;
        var package = ModelPackager.Pack(DigitsSample.Name, "1", model, policy, TestPackages.Signer, TestPackages.Created, profile);
        return new VerifiedModelVersion(package.Manifest, package.ManifestDigest, PolicyLoader.Parse(policy)) { Profile = InputProfile.Parse(profile) };
    }
}
