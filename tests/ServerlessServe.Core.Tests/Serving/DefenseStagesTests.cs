using System.Security.Cryptography;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Serving;

/// <summary>
/// The screen and squeeze stages on a signed digits version: what each decides, records and refuses, and what the
/// screen reports to the caller's extraction state (the digits policy enforces extraction). The extraction store is
/// never started and its table never exists: the request path does not touch storage.
/// </summary>
public sealed class DefenseStagesTests
{
    private static readonly Lazy<VerifiedModelVersion> Version = new(Build);
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly float[] Saturated = Enumerable.Repeat(16f, 64).ToArray();

    private readonly CallerPseudonymizer _pseudonymizer = new(RandomNumberGenerator.GetBytes(32));
    private readonly FakeTimeProvider _time = new(Start);
    private readonly RecordingSecurityEvents _events = new();
    private readonly ExtractionStateStore _store;
    private readonly ExtractionAlarms _alarms;

    public DefenseStagesTests()
    {
        _alarms = new ExtractionAlarms(_time, new FakeLogger<ExtractionAlarms>(), _events);
        _store = new ExtractionStateStore(
            new TableServiceClient("UseDevelopmentStorage=true").GetTableClient("neverused"),
            new ExtractionDetector(new ExtractionDetectorOptions()),
            _alarms,
            Options.Create(new ExtractionStoreOptions()),
            _time,
            new FakeLogger<ExtractionStateStore>());
    }

    [Theory]
    [InlineData("enforce", false)]
    [InlineData("shadow", true)]
    public async Task Screen_SaturatedImage_FlaggedAndRefusedOnlyWhenEnforcing(string mode, bool passes)
    {
        var context = Context(Version.Value with { Policy = WithModes(mode, "shadow") }, Saturated);

        var outcome = await Screen().RunAsync(context, CancellationToken.None);

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

        var outcome = await Screen().RunAsync(context, CancellationToken.None);

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
        var context = Context(Version.Value with { Policy = Version.Value.Policy with { Defenses = null } }, Saturated);

        Assert.True((await Screen().RunAsync(context, CancellationToken.None)).Passed);
        Assert.Empty(context.Defenses);
        Assert.Equal(0, Peek("alice").Screened);
    }

    [Fact]
    public async Task Screen_CallerWhoseRowsAreMostlyOutOfDistribution_EveryRequestRefused_OneExtractionEvent()
    {
        var screen = Screen();
        var outcomes = new List<StageOutcome>();

        // 60 one-row requests, every fifth a held-out digit: 48 of them refused by the 60th.
        for (var i = 0; i < 60; i++)
        {
            outcomes.Add(await screen.RunAsync(Context(Version.Value, i % 5 == 4 ? DigitsData.Load().Test.Row(i) : Saturated, "mallory", $"r{i}"), CancellationToken.None));
        }

        Assert.Equal(48, outcomes.Count(static o => !o.Passed));
        var alarm = Assert.Single(_events.Raised);
        Assert.Equal("r49", alarm.RequestId);                          // the 50th row: the window's minimum
        Assert.Equal(SecurityEventKinds.Extraction, alarm.Kind);
        Assert.Equal(_pseudonymizer.Pseudonymize("mallory"), alarm.Caller);
        Assert.Equal((DigitsSample.Name, "1"), (alarm.Model, alarm.ModelVersion));
        Assert.Equal("outOfDistribution", alarm.Evidence["signals"]);
        Assert.Equal(("0.8", "50", "0.2", "0"), (alarm.Evidence["oodShare"], alarm.Evidence["screened"], alarm.Evidence["oodThreshold"], alarm.Evidence["queries"]));
        Assert.Equal(new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)), alarm.Action);
        Assert.Equal(60, Peek("mallory").Screened);
        Assert.Equal(0, Peek("alice").Screened);                       // callers are kept apart
    }

    [Fact]
    public async Task Screen_BenignCallerOfHeldOutDigits_NoEvent()
    {
        var screen = Screen();
        var test = DigitsData.Load().Test;
        var refused = 0;

        foreach (var batch in Enumerable.Range(0, 400).Chunk(4))
        {
            var outcome = await screen.RunAsync(Context(Version.Value, [.. batch.SelectMany(test.Row)], "alice"), CancellationToken.None);
            refused += outcome.Passed ? 0 : 1;
        }

        Assert.Empty(_events.Raised);
        var verdict = Peek("alice");
        Assert.Equal(200, verdict.Screened);
        Assert.InRange(verdict.OutOfDistributionShare!.Value, 0.0, 0.02);
        Assert.InRange(refused, 0, 4);
    }

    [Fact]
    public async Task Screen_PolicyWithoutExtraction_ScreensAsBefore_ReportsNothing()
    {
        var screen = Screen();
        var version = Version.Value with { Policy = Version.Value.Policy with { Defenses = Version.Value.Policy.Defenses! with { Extraction = null } } };

        for (var i = 0; i < 60; i++)
        {
            Assert.False((await screen.RunAsync(Context(version, Saturated, "mallory"), CancellationToken.None)).Passed);
        }

        Assert.Empty(_events.Raised);
        Assert.Equal(0, Peek("mallory").Screened);
    }

    [Fact]
    public async Task ScreenThenExtract_ShadowScreen_SignalRaisedOnceAcrossBothStages()
    {
        var screen = Screen();
        var extract = new DetectExtraction(_store, _alarms, _pseudonymizer, _time);
        var version = Version.Value with { Policy = WithModes("shadow", "shadow") };
        var scores = new float[10];
        scores[8] = 1f;

        for (var i = 0; i < 80; i++)
        {
            var context = Context(version, Saturated, "mallory", $"r{i}");
            Assert.True((await screen.RunAsync(context, CancellationToken.None)).Passed);
            context.Inferred = new InferenceResponse
            {
                ModelName = DigitsSample.Name,
                Outputs = [new Tensor("probabilities", TensorDataType.Fp32, [1, 10], scores)],
            };
            Assert.True((await extract.RunAsync(context, CancellationToken.None)).Passed);
            Assert.Equal(i >= 49, context.Defenses.Single(static f => f.Defense == DetectExtraction.DefenseName).Flagged);
        }

        var alarm = Assert.Single(_events.Raised);
        Assert.Equal(("r49", "outOfDistribution", "49"), (alarm.RequestId, alarm.Evidence["signals"], alarm.Evidence["queries"]));
        Assert.Equal(80, Peek("mallory").Query);
    }

    // The sample policy (extraction enforcing) with these modes of the screen and squeezing.
    private static ModelPolicy WithModes(string ood, string squeeze)
    {
        var policy = Version.Value.Policy;
        var mode = (string m) => m == "enforce" ? DefenseMode.Enforce : DefenseMode.Shadow;
        return policy with
        {
            Defenses = policy.Defenses! with
            {
                Ood = policy.Defenses.Ood! with { Mode = mode(ood) },
                Squeeze = policy.Defenses.Squeeze! with { Mode = mode(squeeze), Threshold = 0.2 },
            },
        };
    }

    private static InferenceContext Context(VerifiedModelVersion version, float[] pixels, string caller = "alice", string requestId = "r1") =>
        new(requestId, DigitsSample.Name, null, "infer")
        {
            Model = version,
            Caller = new CallerIdentity(caller, []),
            Request = new InferenceRequest { Inputs = [new Tensor("pixels", TensorDataType.Fp32, [pixels.Length / 64, 64], pixels)] },
        };

    private ScreenInput Screen() => new(_store, _alarms, _pseudonymizer, _time);

    // What the caller's extraction state for digits holds, without observing anything.
    private ExtractionVerdict Peek(string caller) => _store.ObserveScreened(
        new ExtractionKey(DigitsSample.Name, _pseudonymizer.Pseudonymize(caller)),
        new ExtractionSubject(Version.Value.Policy.Defenses!.Extraction!, "1"),
        64,
        0,
        0,
        Start).Verdict;

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
