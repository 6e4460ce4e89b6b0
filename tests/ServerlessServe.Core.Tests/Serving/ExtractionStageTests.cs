using System.Security.Cryptography;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Defenses.Extraction;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Serving;

/// <summary>
/// The extract stage on the digits policy: what it observes, records and raises. Its store is never started and its
/// table never exists: the request path does not touch storage.
/// </summary>
public sealed class ExtractionStageTests
{
    private static readonly DateTimeOffset Start = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly VerifiedModelVersion Digits = Version(PolicyLoader.Parse(SampleModels.GetPolicy(DigitsSample.Name)));

    private readonly CallerPseudonymizer _pseudonymizer = new(RandomNumberGenerator.GetBytes(32));
    private readonly SyntheticCallers _model = new(1);

    [Fact]
    public void SamplePolicy_Digits_EnforcesExtractionWithABlockOfOneHour()
    {
        var extraction = Digits.Policy.Defenses!.Extraction!;

        Assert.Equal(DefenseMode.Enforce, extraction.Mode);
        Assert.Equal(("pixels", "probabilities"), (extraction.Input, extraction.Output));
        Assert.Equal(new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)), extraction.Action.ToContainment());
        PolicyLoader.CheckAgainst(Digits.Policy, Digits.Manifest.Inputs, Digits.Manifest.Outputs);
    }

    [Fact]
    public async Task Run_PolicyWithoutExtraction_PassesAndRecordsNothing()
    {
        var (stage, _, events) = Stage();
        var version = Digits with { Policy = Digits.Policy with { Defenses = Digits.Policy.Defenses! with { Extraction = null } } };
        var context = Context(version, "alice", _model.Benign().Take(3).ToList());

        var outcome = await stage.RunAsync(context, CancellationToken.None);

        Assert.True(outcome.Passed);
        Assert.Empty(context.Defenses);
        Assert.Empty(events.Raised);
    }

    [Fact]
    public async Task Run_BenignCaller_EveryRowObserved_WRecordedAgainstDelta_NothingRaised()
    {
        var (stage, store, events) = Stage();
        var queries = _model.Benign().Take(300).ToList();
        var findings = new List<DefenseFinding>();

        foreach (var batch in queries.Chunk(10))
        {
            var context = Context(Digits, "alice", batch);
            Assert.True((await stage.RunAsync(context, CancellationToken.None)).Passed);
            findings.Add(Assert.Single(context.Defenses));
        }

        Assert.Empty(events.Raised);
        Assert.All(findings, static f => Assert.Equal(("extraction", DefenseMode.Enforce, 0.9, false, false), (f.Defense, f.Mode, f.Threshold, f.Flagged, f.Refuses)));
        Assert.True(double.IsNaN(findings[0].Score));                  // no W before 100 distances
        Assert.InRange(findings[^1].Score, 0.9, 1.0);
        Assert.Equal(300, Peek(store, "alice").Query);
        Assert.Equal(0, Peek(store, "bob").Query);                      // callers are kept apart
    }

    [Theory]
    [InlineData(DefenseMode.Enforce, ContainmentKind.Block)]
    [InlineData(DefenseMode.Shadow, ContainmentKind.None)]
    public async Task Run_ExtractionAttacker_OneEventWhenTheSignalIsFirstRaised_EveryRequestServed(DefenseMode mode, ContainmentKind action)
    {
        var (stage, _, events) = Stage();
        var version = Digits with { Policy = Digits.Policy with { Defenses = Digits.Policy.Defenses! with { Extraction = Digits.Policy.Defenses.Extraction! with { Mode = mode } } } };
        var contexts = new List<InferenceContext>();

        foreach (var (batch, i) in _model.JacobianStyle(0.1f).Take(200).Chunk(10).Select(static (b, i) => (b, i)))
        {
            var context = Context(version, "mallory", batch, $"r{i}");
            Assert.True((await stage.RunAsync(context, CancellationToken.None)).Passed);
            contexts.Add(context);
        }

        var alarm = Assert.Single(events.Raised);
        var first = contexts.First(static c => c.Defenses.Single().Flagged);
        Assert.Equal(first.RequestId, alarm.RequestId);
        Assert.All(contexts.SkipWhile(c => c != first), static c => Assert.True(c.Defenses.Single().Flagged));
        Assert.True(first.Defenses.Single().Score < 0.9);
        Assert.Equal(SecurityEventKinds.Extraction, alarm.Kind);
        Assert.Equal(_pseudonymizer.Pseudonymize("mallory"), alarm.Caller);
        Assert.Equal(("digits", "1"), (alarm.Model, alarm.ModelVersion));
        Assert.Equal("distanceDistribution", alarm.Evidence["signals"]);
        Assert.True(double.Parse(alarm.Evidence["w"], System.Globalization.CultureInfo.InvariantCulture) < 0.9);
        Assert.Equal("0.9", alarm.Evidence["delta"]);
        Assert.Equal(("0.2", "0"), (alarm.Evidence["oodThreshold"], alarm.Evidence["screened"])); // no screen reported rows
        Assert.False(alarm.Evidence.ContainsKey("oodShare"));
        Assert.InRange(long.Parse(alarm.Evidence["queries"], System.Globalization.CultureInfo.InvariantCulture), 100, 150);
        Assert.Equal(action, alarm.Action.Kind);
        Assert.Equal(action == ContainmentKind.Block ? TimeSpan.FromHours(1) : null, alarm.Action.Duration);
    }

    [Fact]
    public async Task Run_SecurityEventsFail_RequestStillServed_FailureLogged_NotRaisedAgain()
    {
        var logs = new FakeLogCollector();
        var (stage, _, _) = Stage(new RecordingSecurityEvents { Failure = new AuditUnavailableException("audit down") }, logs);
        var passed = new List<bool>();

        foreach (var batch in _model.JacobianStyle(0.1f).Take(200).Chunk(10))
        {
            passed.Add((await stage.RunAsync(Context(Digits, "mallory", batch), CancellationToken.None)).Passed);
        }

        Assert.All(passed, Assert.True);
        var failure = Assert.Single(logs.GetSnapshot(), static r => r.Level == LogLevel.Error);
        Assert.IsType<AuditUnavailableException>(failure.Exception);
    }

    [Fact]
    public async Task Infer_CallerAsksForAnotherOutput_TheOutputExtractionReadsIsAskedForToo()
    {
        var version = Digits with
        {
            Manifest = Digits.Manifest with { Outputs = [.. Digits.Manifest.Outputs, new TensorSpec("embedding", TensorDataType.Fp32, [-1, 4])] },
        };
        var backend = new CapturingBackend();
        var context = Context(version, "mallory", _model.Benign().Take(1).ToList());
        context.Request = new InferenceRequest { Inputs = context.Request!.Inputs, Outputs = [new RequestedOutput("embedding")] };

        await new InferRemote(backend).RunAsync(context, CancellationToken.None);

        Assert.Equal(["embedding", "probabilities"], backend.Forwarded!.Outputs!.Select(static o => o.Name));
    }

    [Fact]
    public void PredictedClasses_Scores_ArgMaxOfEachRow_RowWithoutANumberSkipped()
    {
        var scores = new Tensor("p", TensorDataType.Fp32, [3, 3], new[] { 0.1f, 0.7f, 0.2f, 0.5f, 0.5f, 0f, float.NaN, float.NaN, float.NaN });

        Assert.Equal([1, 0, -1], DetectExtraction.PredictedClasses(scores, 3));
    }

    [Fact]
    public void PredictedClasses_IntegerLabels_TheirValues_NegativeSkipped()
    {
        var labels = new Tensor("label", TensorDataType.Int64, [3], new[] { 4L, -1L, 0L });

        Assert.Equal([4, -1, 0], DetectExtraction.PredictedClasses(labels, 3));
    }

    [Fact]
    public void PredictedClasses_NotOnePredictionPerRow_Throws()
    {
        var labels = new Tensor("label", TensorDataType.Int32, [2, 2], new[] { 1, 2, 3, 4 });

        Assert.Throws<InvalidOperationException>(() => DetectExtraction.PredictedClasses(labels, 2));
    }

    private (DetectExtraction Stage, ExtractionStateStore Store, RecordingSecurityEvents Events) Stage(
        RecordingSecurityEvents? events = null, FakeLogCollector? logs = null)
    {
        events ??= new RecordingSecurityEvents();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Start);
        var alarms = new ExtractionAlarms(time, new FakeLogger<ExtractionAlarms>(logs ?? new FakeLogCollector()), events);
        var store = new ExtractionStateStore(
            new TableServiceClient("UseDevelopmentStorage=true").GetTableClient("neverused"),
            new ExtractionDetector(new ExtractionDetectorOptions()),
            alarms,
            Options.Create(new ExtractionStoreOptions()),
            time,
            new FakeLogger<ExtractionStateStore>());
        return (new DetectExtraction(store, alarms, _pseudonymizer, time), store, events);
    }

    // What the store holds for a caller of digits, without observing anything.
    private ExtractionVerdict Peek(ExtractionStateStore store, string subject) => store.Observe(
        new ExtractionKey(DigitsSample.Name, _pseudonymizer.Pseudonymize(subject)),
        new ExtractionSubject(Digits.Policy.Defenses!.Extraction!, "1"),
        [],
        SyntheticCallers.Dimension,
        [],
        Start).Verdict;

    // A request of these rows by this caller, as the stages before extract leave it: the model's scores one-hot on the
    // synthetic model's class.
    private InferenceContext Context(VerifiedModelVersion version, string subject, IReadOnlyList<float[]> rows, string requestId = "r1")
    {
        var scores = new float[rows.Count * SyntheticCallers.Classes];
        for (var i = 0; i < rows.Count; i++)
        {
            scores[(i * SyntheticCallers.Classes) + _model.Predict(rows[i])] = 1f;
        }

        return new InferenceContext(requestId, DigitsSample.Name, null, "infer")
        {
            Model = version,
            Caller = new CallerIdentity(subject, []),
            Request = new InferenceRequest { Inputs = [new Tensor("pixels", TensorDataType.Fp32, [rows.Count, SyntheticCallers.Dimension], rows.SelectMany(static r => r).ToArray())] },
            Inferred = new InferenceResponse
            {
                ModelName = DigitsSample.Name,
                Outputs = [new Tensor("probabilities", TensorDataType.Fp32, [rows.Count, SyntheticCallers.Classes], scores)],
            },
        };
    }

    // The inference app as the infer stage sees it, keeping what it was asked.
    private sealed class CapturingBackend : IInferenceBackend
    {
        public InferenceRequest? Forwarded { get; private set; }

        public Task<InferenceResponse> InferAsync(VerifiedModelVersion model, InferenceRequest request, string requestId, CancellationToken cancellationToken)
        {
            Forwarded = request;
            return Task.FromResult(new InferenceResponse { ModelName = model.Manifest.Name, Outputs = [] });
        }

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    }

    private static VerifiedModelVersion Version(ModelPolicy policy) => new(
        new ModelManifest
        {
            Name = DigitsSample.Name,
            Version = "1",
            Created = Start,
            SignerKeyId = "test",
            Files = new Dictionary<string, ManifestFile>(),
            Inputs = [new TensorSpec("pixels", TensorDataType.Fp32, [-1, 64])],
            Outputs = [new TensorSpec("probabilities", TensorDataType.Fp32, [-1, 10])],
        },
        "sha256:test",
        policy);
}
