using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Serving;

/// <summary>
/// The tripwire stages: a honey model, a honey caller and a canary in a released output each raise exactly one
/// security event and answer as the request would have been answered without the tripwire; clean traffic raises none;
/// no event, evidence or log line holds a canary value.
/// </summary>
public sealed class CanaryStagesTests
{
    private const string HoneyModel = "payroll-model";
    private const string HoneySubject = "break-glass-admin";
    private const string OtherCanary = "second-canary-value-for-tests";

    private static readonly Lazy<VerifiedModelVersion> NotesVersion = new(() =>
    {
        var package = TestPackages.CustomerNotes(CustomerNotesSample.Name, "1");
        return new VerifiedModelVersion(package.Manifest, package.ManifestDigest, PolicyLoader.Parse(SampleModels.GetPolicy(CustomerNotesSample.Name)));
    });

    private readonly RecordingSecurityEvents _events = new();
    private readonly FakeLogger<CanaryAlarm> _logger = new();
    private readonly CallerPseudonymizer _pseudonymizer = new(RandomNumberGenerator.GetBytes(32));
    private readonly CanaryAlarm _alarm;

    public CanaryStagesTests()
    {
        var canaries = new Canaries(
            [HoneyModel],
            [HoneySubject],
            new CanaryTokens([CustomerNotesSample.CanaryToken, OtherCanary]),
            new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)));
        _alarm = new CanaryAlarm(canaries, _pseudonymizer, _events, new FakeTimeProvider(), _logger);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("3")]
    public async Task HoneyModel_OneEventNamingTheCaller_RefusedAsAnUnknownModel(string? version)
    {
        var context = new ModelRequestContext("r1", HoneyModel, version) { Caller = new CallerIdentity("alice", []) };

        var outcome = await new RefuseHoneyModel(_alarm).RunAsync(context, CancellationToken.None);

        Assert.Same(ModelCatalog.UnknownModel(version), outcome.Refusal);
        var raised = Assert.Single(_events.Raised);
        Assert.Equal(SecurityEventKinds.HoneyModel, raised.Kind);
        Assert.Equal(_pseudonymizer.Pseudonymize("alice"), raised.Caller);
        Assert.Equal((HoneyModel, version, "r1"), (raised.Model, raised.ModelVersion, raised.RequestId));
        Assert.Equal(ContainmentKind.Block, raised.Action.Kind);
        Assert.Equal("model", raised.Evidence["operation"]);
    }

    [Fact]
    public async Task HoneyModel_MalformedVersion_EventAndTheCatalogsInvalidRefusal()
    {
        var context = new ModelRequestContext("r1", HoneyModel, "..") { Caller = new CallerIdentity("alice", []) };

        var refused = await Assert.ThrowsAsync<RefusedException>(async () => await new RefuseHoneyModel(_alarm).RunAsync(context, CancellationToken.None));

        Assert.Equal(Refusal.Invalid("invalid model version"), refused.Refusal);
        Assert.Null(Assert.Single(_events.Raised).ModelVersion);
    }

    /// <summary>
    /// The honey stages run before resolve checks the route: text a caller puts there (an e-mail address, a line break
    /// that would forge a log line) never reaches the event, which goes to log 6000 and the audit trail (review,
    /// 2026-12-07: both route values were copied as they came).
    /// </summary>
    [Fact]
    public async Task HoneyStages_RouteTextThatIsNoName_NotInTheEvent()
    {
        var probe = new ModelRequestContext("r1", HoneyModel, "jane.doe@example.com\nforged") { Caller = new CallerIdentity("alice", []) };
        await Assert.ThrowsAsync<RefusedException>(async () => await new RefuseHoneyModel(_alarm).RunAsync(probe, CancellationToken.None));
        var honey = new InferenceContext("r2", "x\ny@example.com", "1\n2", "infer") { Caller = new CallerIdentity(HoneySubject, ["reader"]) };
        await new RefuseHoneyCaller(_alarm).RunAsync(honey, CancellationToken.None);

        Assert.Equal(2, _events.Raised.Count);
        Assert.Equal((HoneyModel, (string?)null), (_events.Raised[0].Model, _events.Raised[0].ModelVersion));
        Assert.Equal(((string?)null, (string?)null), (_events.Raised[1].Model, _events.Raised[1].ModelVersion));
        Assert.DoesNotContain("example.com", JsonSerializer.Serialize(_events.Raised), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HoneyModel_LookAhead_RefusedAlikeButRaisesNothing()
    {
        var context = new ModelRequestContext("r1", HoneyModel, null) { Caller = new CallerIdentity("alice", []), LookAhead = true };

        var outcome = await new RefuseHoneyModel(_alarm).RunAsync(context, CancellationToken.None);

        Assert.Same(ModelCatalog.UnknownModel(null), outcome.Refusal);
        Assert.Empty(_events.Raised);
    }

    [Fact]
    public async Task HoneyModel_AuditUnavailable_StillTheSame404()
    {
        _events.AuditUnavailable = true;
        var context = new InferenceContext("r1", HoneyModel, null, "infer") { Caller = new CallerIdentity("alice", []) };

        var outcome = await new RefuseHoneyModel(_alarm).RunAsync(context, CancellationToken.None);

        Assert.Same(ModelCatalog.UnknownModel(null), outcome.Refusal);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1400);
    }

    [Fact]
    public async Task HoneyCaller_OneEventNamingItsPseudonym_TheUsual403()
    {
        var context = new InferenceContext("r2", CustomerNotesSample.Name, null, "infer") { Caller = new CallerIdentity(HoneySubject, ["reader"]) };

        var outcome = await new RefuseHoneyCaller(_alarm).RunAsync(context, CancellationToken.None);

        Assert.Same(AuthorizeCaller.Forbidden, outcome.Refusal);
        var raised = Assert.Single(_events.Raised);
        Assert.Equal(SecurityEventKinds.HoneyCaller, raised.Kind);
        Assert.Equal(_pseudonymizer.Pseudonymize(HoneySubject), raised.Caller);
        Assert.Equal(CustomerNotesSample.Name, raised.Model);
        Assert.Equal("infer", raised.Evidence["operation"]);
        Assert.DoesNotContain(HoneySubject, JsonSerializer.Serialize(raised), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HoneyStages_OrdinaryCallerAndModel_PassAndRaiseNothing()
    {
        var context = new ModelRequestContext("r3", CustomerNotesSample.Name, null) { Caller = new CallerIdentity("alice", []) };

        Assert.True((await new RefuseHoneyCaller(_alarm).RunAsync(context, CancellationToken.None)).Passed);
        Assert.True((await new RefuseHoneyModel(_alarm).RunAsync(context, CancellationToken.None)).Passed);
        Assert.Empty(_events.Raised);
    }

    [Fact]
    public async Task CanaryOutput_QuarantineOnOutput_TheEventQuarantinesTheVersionNotTheCaller()
    {
        var canaries = new Canaries([], [], new CanaryTokens([CustomerNotesSample.CanaryToken]), new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)))
        {
            QuarantineOnOutput = true,
        };
        var alarm = new CanaryAlarm(canaries, _pseudonymizer, _events, new FakeTimeProvider(), _logger);
        var context = await RedactedAsync(CustomerNotesSample.CanaryCustomerId);

        Assert.True((await new DetectCanaryOutput(alarm).RunAsync(context, CancellationToken.None)).Passed);

        var raised = Assert.Single(_events.Raised);
        Assert.Equal(SecurityEventKinds.CanaryOutput, raised.Kind);
        Assert.Equal(new ContainmentAction(ContainmentKind.Quarantine), raised.Action);
        Assert.Equal((CustomerNotesSample.Name, context.Model!.Manifest.Version), (raised.Model, raised.ModelVersion));
    }

    [Fact]
    public async Task CanaryOutput_CanaryRecordAfterRedaction_OneEventForTheRequestAndReleased()
    {
        // The canary id three times in one request, beside notes that are redacted: still one event.
        var context = await RedactedAsync(0, CustomerNotesSample.CanaryCustomerId, 1, CustomerNotesSample.CanaryCustomerId, CustomerNotesSample.CanaryCustomerId);

        var outcome = await new DetectCanaryOutput(_alarm).RunAsync(context, CancellationToken.None);

        Assert.True(outcome.Passed);
        Assert.Contains(CustomerNotesSample.CanaryNote, Notes(context));
        var raised = Assert.Single(_events.Raised);
        Assert.Equal(SecurityEventKinds.CanaryOutput, raised.Kind);
        Assert.Equal(CanaryTokens.IdOf(CustomerNotesSample.CanaryToken), raised.Evidence["canaries"]);
        Assert.Equal(CustomerNotesSample.OutputName, raised.Evidence["outputs"]);
        Assert.Equal((CustomerNotesSample.Name, "1"), (raised.Model, raised.ModelVersion));
        Assert.Equal(_pseudonymizer.Pseudonymize("alice"), raised.Caller);
        Assert.DoesNotContain(CustomerNotesSample.CanaryToken, JsonSerializer.Serialize(raised), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CanaryOutput_TwoValuesInTwoOutputs_OneEventNamingBoth()
    {
        var context = new InferenceContext("r4", "m", null, "infer")
        {
            Caller = new CallerIdentity("alice", []),
            Released = new InferenceResponse
            {
                ModelName = "m",
                Outputs =
                [
                    Text("b", "clean", "x " + OtherCanary),
                    new Tensor("scores", TensorDataType.Fp32, [1], new[] { 0.5f }),
                    Text("a", CustomerNotesSample.CanaryToken),
                ],
            },
        };

        await new DetectCanaryOutput(_alarm).RunAsync(context, CancellationToken.None);

        var raised = Assert.Single(_events.Raised);
        Assert.Equal(CanaryTokens.Join([CanaryTokens.IdOf(CustomerNotesSample.CanaryToken), CanaryTokens.IdOf(OtherCanary)]), raised.Evidence["canaries"]);
        Assert.Equal("a,b", raised.Evidence["outputs"]);
    }

    /// <summary>
    /// Text released as a tensor of bytes (UINT8 or INT8, row after row) carries a canary as well as a BYTES output does;
    /// only BYTES outputs were searched before 2026-12-08 (review). A value split over rows is found as it is laid out.
    /// </summary>
    [Theory]
    [InlineData(TensorDataType.UInt8)]
    [InlineData(TensorDataType.Int8)]
    public async Task CanaryOutput_InAByteTensor_OneEventNamingIt(TensorDataType type)
    {
        var text = Encoding.UTF8.GetBytes("reply: " + OtherCanary + " ok");
        var width = 8;
        var padded = new byte[(text.Length + width - 1) / width * width];
        text.CopyTo(padded, 0);
        Array data = type == TensorDataType.UInt8 ? padded : Array.ConvertAll(padded, b => unchecked((sbyte)b));
        var context = new InferenceContext("r6", "m", null, "infer")
        {
            Caller = new CallerIdentity("alice", []),
            Released = new InferenceResponse
            {
                ModelName = "m",
                Outputs = [new Tensor("tokens", type, [padded.Length / width, width], data), new Tensor("clean", type, [4], type == TensorDataType.UInt8 ? new byte[] { 1, 2, 3, 4 } : new sbyte[] { 1, 2, 3, 4 })],
            },
        };

        var outcome = await new DetectCanaryOutput(_alarm).RunAsync(context, CancellationToken.None);

        Assert.True(outcome.Passed);
        var raised = Assert.Single(_events.Raised);
        Assert.Equal(CanaryTokens.IdOf(OtherCanary), raised.Evidence["canaries"]);
        Assert.Equal("tokens", raised.Evidence["outputs"]);
    }

    [Fact]
    public async Task CanaryOutput_CleanNotes_NoEvent()
    {
        var context = await RedactedAsync([.. Enumerable.Range(0, 9).Select(i => (long)i)]);

        var outcome = await new DetectCanaryOutput(_alarm).RunAsync(context, CancellationToken.None);

        Assert.True(outcome.Passed);
        Assert.Empty(_events.Raised);
    }

    [Fact]
    public async Task CanaryOutput_AuditUnavailable_Withheld()
    {
        _events.AuditUnavailable = true;
        var context = await RedactedAsync(CustomerNotesSample.CanaryCustomerId);

        var outcome = await new DetectCanaryOutput(_alarm).RunAsync(context, CancellationToken.None);

        Assert.Same(AuditRequest.Withheld, outcome.Refusal);
        Assert.All(_logger.Collector.GetSnapshot(), r => Assert.DoesNotContain(CustomerNotesSample.CanaryToken, r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Alarm_NoCaller_RecordedOnly()
    {
        var raised = _alarm.Create(SecurityEventKinds.CanaryTelemetry, null, new Dictionary<string, string>());

        Assert.Equal(CallerPseudonymizer.Anonymous, raised.Caller);
        Assert.Equal(ContainmentKind.None, raised.Action.Kind);
        Assert.Null(raised.RequestId);
    }

    private static Tensor Text(string name, params string[] values) =>
        new(name, TensorDataType.Bytes, [values.Length], values.Select(Encoding.UTF8.GetBytes).ToArray());

    private static string[] Notes(InferenceContext context) =>
        context.Released!.Outputs.Single().As<byte[]>().Select(Encoding.UTF8.GetString).ToArray();

    // The customer-notes sample's rows for these ids, through the real redact stage with the sample's policy.
    private static async Task<InferenceContext> RedactedAsync(params long[] ids)
    {
        var context = new InferenceContext("r5", CustomerNotesSample.Name, null, "infer")
        {
            Caller = new CallerIdentity("alice", []),
            Model = NotesVersion.Value,
            Inferred = new InferenceResponse
            {
                ModelName = CustomerNotesSample.Name,
                Outputs = [Text(CustomerNotesSample.OutputName, [.. ids.Select(i => CustomerNotesSample.Rows[(int)i])])],
            },
        };
        Assert.True((await new RedactResponse(new ResponseRedactor()).RunAsync(context, CancellationToken.None)).Passed);
        return context;
    }
}
