using System.Text;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Tests.Policy;

public sealed class DefensePolicyTests
{
    private static readonly TensorSpec[] Inputs = [new("pixels", TensorDataType.Fp32, [-1, 64])];

    private static readonly TensorSpec[] Outputs = [new("probabilities", TensorDataType.Fp32, [-1, 10])];

    private const string Squeeze =
        "\"squeeze\":{\"mode\":\"enforce\",\"input\":\"pixels\",\"output\":\"probabilities\",\"inputMax\":16,\"image\":[8,8]," +
        "\"squeezers\":[{\"kind\":\"bitDepth\",\"bits\":3},{\"kind\":\"median\",\"size\":2}],\"threshold\":0.5}";

    [Fact]
    public void Parse_Defenses_MapsEveryField()
    {
        var policy = Parse("""{"ood":{"mode":"enforce","input":"pixels","percentile":99},""" + Squeeze + "}");

        PolicyLoader.CheckAgainst(policy, Inputs, Outputs);
        var ood = policy.Defenses!.Ood!;
        Assert.Equal(DefenseMode.Enforce, ood.Mode);
        Assert.Equal(99, ood.Percentile);
        var squeeze = policy.Defenses.Squeeze!;
        Assert.Equal([8, 8], squeeze.Image);
        Assert.Equal(SqueezerKind.BitDepth, squeeze.Squeezers[0].Kind);
        Assert.Equal(3, squeeze.Squeezers[0].Bits);
        Assert.Equal(SqueezerKind.Median, squeeze.Squeezers[1].Kind);
        Assert.Equal(2, squeeze.Squeezers[1].Size);
        Assert.Equal(0.5, squeeze.Threshold);
    }

    [Fact]
    public void Parse_OodWithoutMode_IsShadowAt99Point5()
    {
        var ood = Parse("""{"ood":{"input":"pixels"}}""").Defenses!.Ood!;

        Assert.Equal(DefenseMode.Shadow, ood.Mode);
        Assert.Equal(99.5, ood.Percentile);
    }

    [Theory]
    [InlineData("""{"ood":{"mode":"block","input":"pixels"}}""", "/defenses/ood/mode")]
    [InlineData("""{"ood":{"input":"pixels","percentile":40}}""", "/defenses/ood/percentile")]
    [InlineData("""{"ood":{"mode":"shadow"}}""", "/defenses/ood")]
    [InlineData("""{"squeeze":{"input":"pixels","output":"probabilities","inputMax":16,"squeezers":[{"kind":"bitDepth"}],"threshold":0.5}}""", "/defenses/squeeze/squeezers/0")]
    [InlineData("""{"squeeze":{"input":"pixels","output":"probabilities","inputMax":16,"squeezers":[{"kind":"median","size":2,"bits":3}],"threshold":0.5}}""", "/defenses/squeeze/squeezers/0")]
    [InlineData("""{"squeeze":{"input":"pixels","output":"probabilities","inputMax":16,"squeezers":[],"threshold":0.5}}""", "/defenses/squeeze/squeezers")]
    [InlineData("""{"squeeze":{"input":"pixels","output":"probabilities","inputMax":16,"squeezers":[{"kind":"bitDepth","bits":3}],"threshold":3}}""", "/defenses/squeeze/threshold")]
    [InlineData("""{"canary":{}}""", "/defenses/canary")]
    public void Parse_MalformedDefense_RejectedWithPath(string defenses, string expectedPath)
    {
        var error = Assert.Throws<PolicyException>(() => Parse(defenses));

        Assert.StartsWith(expectedPath, error.PolicyPath, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"ood":{"input":"features"}}""", "/defenses/ood/input")]
    [InlineData("""{"squeeze":{"input":"pixels","output":"logits","inputMax":16,"squeezers":[{"kind":"bitDepth","bits":3}],"threshold":0.5}}""", "/defenses/squeeze/output")]
    [InlineData("""{"squeeze":{"input":"pixels","output":"probabilities","inputMax":16,"squeezers":[{"kind":"median","size":2}],"threshold":0.5}}""", "/defenses/squeeze/image")]
    [InlineData("""{"squeeze":{"input":"pixels","output":"probabilities","inputMax":16,"image":[8,9],"squeezers":[{"kind":"bitDepth","bits":3}],"threshold":0.5}}""", "/defenses/squeeze/image")]
    public void CheckAgainst_DefenseThatDoesNotFitTheModel_Rejected(string defenses, string expectedPath)
    {
        var policy = Parse(defenses);

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.CheckAgainst(policy, Inputs, Outputs));

        Assert.Equal(expectedPath, error.PolicyPath);
    }

    [Fact]
    public void Parse_Padding_BucketsInOrder()
    {
        var policy = PolicyLoader.Parse(Encoding.UTF8.GetBytes("""{"schemaVersion":1,"maxBatch":1,"padding":{"buckets":[512,4096]}}"""));

        Assert.Equal([512, 4096], policy.Padding!.Buckets);
        Assert.Equal("/padding/buckets", Assert.Throws<PolicyException>(() => PolicyLoader.Parse(Encoding.UTF8.GetBytes("""{"schemaVersion":1,"maxBatch":1,"padding":{"buckets":[4096,512]}}"""))).PolicyPath);
        Assert.StartsWith("/padding/buckets", Assert.Throws<PolicyException>(() => PolicyLoader.Parse(Encoding.UTF8.GetBytes("""{"schemaVersion":1,"maxBatch":1,"padding":{"buckets":[8]}}"""))).PolicyPath, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckAgainst_SqueezingAFixedBatchModel_Rejected()
    {
        var policy = Parse("{" + Squeeze + "}", maxBatch: 1);

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.CheckAgainst(policy, [new("pixels", TensorDataType.Fp32, [1, 64])], Outputs));

        Assert.Equal("/defenses/squeeze/input", error.PolicyPath);
    }

    [Fact]
    public void Parse_Extraction_MapsEveryField()
    {
        var policy = Parse("""{"extraction":{"mode":"enforce","input":"pixels","output":"probabilities","action":{"kind":"throttle","duration":"P1DT12H","requestsPerMinute":6}}}""");

        PolicyLoader.CheckAgainst(policy, Inputs, Outputs);
        var extraction = policy.Defenses!.Extraction!;
        Assert.Equal((DefenseMode.Enforce, "pixels", "probabilities"), (extraction.Mode, extraction.Input, extraction.Output));
        Assert.Equal(new ContainmentAction(ContainmentKind.Throttle, TimeSpan.FromHours(36), 6), extraction.Action.ToContainment());
    }

    [Fact]
    public void Parse_ExtractionWithoutModeOrAction_ShadowAndBlockForAnHour()
    {
        var extraction = Parse("""{"extraction":{"input":"pixels","output":"probabilities"}}""").Defenses!.Extraction!;

        Assert.Equal(DefenseMode.Shadow, extraction.Mode);
        Assert.Equal(new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)), extraction.Action.ToContainment());
    }

    [Theory]
    [InlineData("""{"kind":"block"}""", ContainmentKind.Block, null)]
    [InlineData("""{"kind":"none"}""", ContainmentKind.None, null)]
    [InlineData("""{"kind":"block","duration":"PT90S"}""", ContainmentKind.Block, 90.0)]
    [InlineData("""{"kind":"block","duration":"PT0.5S"}""", ContainmentKind.Block, 0.5)]
    public void Parse_ExtractionAction_KindAndDuration(string action, ContainmentKind kind, double? seconds)
    {
        var parsed = Parse("""{"extraction":{"input":"pixels","output":"probabilities","action":""" + action + "}}").Defenses!.Extraction!.Action;

        Assert.Equal(kind, parsed.Kind);
        Assert.Equal(seconds is { } s ? TimeSpan.FromSeconds(s) : null, parsed.Duration);
    }

    [Theory]
    [InlineData("""{"input":"pixels"}""", "/defenses/extraction")]
    [InlineData("""{"input":"pixels","output":"probabilities","mode":"block"}""", "/defenses/extraction/mode")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"quarantine"}}""", "/defenses/extraction/action/kind")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"throttle"}}""", "/defenses/extraction/action")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"block","requestsPerMinute":5}}""", "/defenses/extraction/action")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"none","duration":"PT1H"}}""", "/defenses/extraction/action")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"block","duration":"1:00:00"}}""", "/defenses/extraction/action/duration")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"block","duration":"P1M"}}""", "/defenses/extraction/action/duration")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"block","duration":"-PT1H"}}""", "/defenses/extraction/action/duration")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"block","duration":"PT"}}""", "/defenses/extraction/action/duration")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"block","duration":"P366D"}}""", "/defenses/extraction/action/duration")]
    [InlineData("""{"input":"pixels","output":"probabilities","action":{"kind":"block","duration":"PT0S"}}""", "/defenses/extraction/action/duration")]
    public void Parse_MalformedExtraction_RejectedWithPath(string extraction, string expectedPath)
    {
        var error = Assert.Throws<PolicyException>(() => Parse("""{"extraction":""" + extraction + "}"));

        Assert.StartsWith(expectedPath, error.PolicyPath, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("features", "probabilities", "/defenses/extraction/input")]
    [InlineData("pixels", "logits", "/defenses/extraction/output")]
    [InlineData("pixels", "embedding", "/defenses/extraction/output")]
    [InlineData("pixels", "tokens", "/defenses/extraction/output")]
    public void CheckAgainst_ExtractionThatDoesNotFitTheModel_Rejected(string input, string output, string expectedPath)
    {
        var policy = Parse($$$"""{"extraction":{"input":"{{{input}}}","output":"{{{output}}}"}}""");
        TensorSpec[] outputs = [.. Outputs, new("embedding", TensorDataType.Fp32, [-1, 4, 4]), new("tokens", TensorDataType.Int64, [-1, 8])];

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.CheckAgainst(policy, Inputs, outputs));

        Assert.Equal(expectedPath, error.PolicyPath);
    }

    [Theory]
    [InlineData(TensorDataType.Fp32, new long[] { -1, 10 }, true)]
    [InlineData(TensorDataType.Fp64, new long[] { -1, -1 }, true)]
    [InlineData(TensorDataType.Int64, new long[] { -1 }, true)]
    [InlineData(TensorDataType.Int32, new long[] { -1, 1 }, true)]
    [InlineData(TensorDataType.Fp32, new long[] { -1 }, false)]
    [InlineData(TensorDataType.Int64, new long[] { -1, 3 }, false)]
    [InlineData(TensorDataType.Bytes, new long[] { -1 }, false)]
    [InlineData(TensorDataType.Bool, new long[] { -1 }, false)]
    public void IsClassOutput_ScoresOrIntegerLabels(TensorDataType type, long[] shape, bool expected) =>
        Assert.Equal(expected, PolicyLoader.IsClassOutput(new TensorSpec("out", type, shape)));

    private static ModelPolicy Parse(string defenses, int maxBatch = 4) =>
        PolicyLoader.Parse(Encoding.UTF8.GetBytes("""{"schemaVersion":1,"maxBatch":""" + maxBatch + ""","defenses":""" + defenses + "}"));
}
