using System.Text;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Policy;

public sealed class PolicyLoaderTests
{
    private static readonly TensorSpec[] Inputs =
    [
        new("features", TensorDataType.Fp32, [-1, 4]),
        new("text", TensorDataType.Bytes, [-1]),
    ];

    private static readonly TensorSpec[] Outputs =
    [
        new("probabilities", TensorDataType.Fp32, [-1, 3]),
        new("note", TensorDataType.Bytes, [-1]),
    ];

    [Theory]
    [InlineData("credit-risk")]
    [InlineData("customer-notes")]
    [InlineData("digits")]
    [InlineData("resnet18")]
    public void Parse_SamplePolicies_Accepted(string model)
    {
        var policy = PolicyLoader.Parse(SampleModels.GetPolicy(model));

        Assert.Equal(1, policy.SchemaVersion);
        Assert.True(policy.MaxBatch >= 1);
    }

    [Fact]
    public void Parse_FullPolicy_MapsEveryField()
    {
        var policy = Parse("""
            {
              "schemaVersion": 1, "maxBatch": 8, "roles": ["scorer", "admin"],
              "inputs": { "features": { "min": -1.5, "max": 2 }, "text": { "maxBytesLength": 64 } },
              "outputs": { "probabilities": { "mode": "topk", "k": 2, "round": 3, "labels": ["a", "b", "c"] } },
              "defaultRound": 4,
              "redact": ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IPV4", "IPV6"]
            }
            """);

        Assert.Equal(8, policy.MaxBatch);
        Assert.Equal(["scorer", "admin"], policy.Roles);
        Assert.Equal(-1.5, policy.Inputs["features"].Min);
        Assert.Equal(2, policy.Inputs["features"].Max);
        Assert.Equal(64, policy.Inputs["text"].MaxBytesLength);
        Assert.Equal(OutputMode.TopK, policy.Outputs["probabilities"].Mode);
        Assert.Equal(2, policy.Outputs["probabilities"].K);
        Assert.Equal(3, policy.Outputs["probabilities"].Round);
        Assert.Equal(["a", "b", "c"], policy.Outputs["probabilities"].Labels);
        Assert.Equal(4, policy.DefaultRound);
        Assert.Equal(Enum.GetValues<PiiEntity>(), policy.Redact);
        PolicyLoader.CheckAgainst(policy, Inputs, Outputs);
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"extra":true}""", "/extra")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{"min":0,"mean":1}}}""", "/inputs/features/mean")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"probabilities":{"mode":"topk"}}}""", "/outputs/probabilities")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"probabilities":{"mode":"scores","k":2}}}""", "/outputs/probabilities")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"probabilities":{"mode":"softmax"}}}""", "/outputs/probabilities/mode")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"probabilities":{"mode":"scores","labels":["a"]}}}""", "/outputs/probabilities")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"redact":["EMAIL","PASSPORT"]}""", "/redact/1")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"redact":["EMAIL","EMAIL"]}""", "/redact")]
    [InlineData("""{"schemaVersion":2,"maxBatch":1}""", "/schemaVersion")]
    [InlineData("""{"schemaVersion":1,"maxBatch":0}""", "/maxBatch")]
    [InlineData("""{"schemaVersion":1}""", "/")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"defaultRound":16}""", "/defaultRound")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"roles":["has space"]}""", "/roles/0")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{}}}""", "/inputs/features")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"signatures":{"required":true,"window":"PT5M"}}""", "/signatures/window")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"signatures":{"maxAge":"PT5M"}}""", "/signatures")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"signatures":{"required":true,"maxAge":"5 minutes"}}""", "/signatures/maxAge")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"signatures":{"required":true,"maxAge":"PT2H"}}""", "/signatures/maxAge")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"signatures":{"required":true,"maxAge":"PT0S"}}""", "/signatures/maxAge")]
    public void Parse_SchemaViolation_RejectedWithPath(string json, string expectedPath)
    {
        var error = Assert.Throws<PolicyException>(() => Parse(json));

        Assert.Equal(expectedPath, error.PolicyPath);
    }

    [Fact]
    public void Parse_Signatures_RequiredWithItsWindowOrTheDefault()
    {
        var policy = Parse("""{"schemaVersion":1,"maxBatch":1,"signatures":{"required":true,"maxAge":"PT90S"}}""");
        var defaulted = Parse("""{"schemaVersion":1,"maxBatch":1,"signatures":{"required":true}}""");

        Assert.True(policy.Signatures!.Required);
        Assert.Equal(TimeSpan.FromSeconds(90), policy.Signatures.MaxAge);
        Assert.Equal(TimeSpan.FromMinutes(5), defaulted.Signatures!.MaxAge);
        Assert.Null(Parse("""{"schemaVersion":1,"maxBatch":1}""").Signatures);
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"maxBatch":2}""")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{"min":0,"min":1}}}""")]
    public void Parse_DuplicateProperty_Rejected(string json)
    {
        Assert.Throws<PolicyException>(() => Parse(json));
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,}""")]
    [InlineData("""{"schemaVersion":1,/* c */"maxBatch":1}""")]
    [InlineData("""[]""")]
    [InlineData("""null""")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1""")]
    public void Parse_NotAPolicyObject_Rejected(string json)
    {
        Assert.Throws<PolicyException>(() => Parse(json));
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"redact":["@@"]}""")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"@@":1}""")]
    public void Parse_IllFormedUtf8InAString_RefusedAsNotJson(string json)
    {
        // Found by the artifact fuzz target: the schema's evaluation threw InvalidOperationException reading such a string.
        var bytes = Encoding.UTF8.GetBytes(json);
        var at = bytes.AsSpan().IndexOf("@@"u8);
        bytes[at] = 0xC2;
        bytes[at + 1] = (byte)'A';

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.Parse(bytes));

        Assert.Equal("/", error.PolicyPath);
        Assert.Contains("not UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"redact":["\udddd"]}""")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"\ud800x":1}""")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"fe\udc00":{"min":0}}}""")]
    public void Parse_UnpairedSurrogateEscape_RefusedAsNotJson(string json)
    {
        // Well-formed UTF-8, but an escape of half a surrogate pair, which the library throws on when it decodes it.
        var error = Assert.Throws<PolicyException>(() => Parse(json));

        Assert.Equal("/", error.PolicyPath);
        Assert.Contains("unpaired surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MinAboveMax_Rejected()
    {
        var error = Assert.Throws<PolicyException>(() => Parse("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{"min":5,"max":1}}}"""));

        Assert.Equal("/inputs/features", error.PolicyPath);
    }

    [Fact]
    public void Parse_Error_NeverQuotesValues()
    {
        var error = Assert.Throws<PolicyException>(() => Parse("""{"schemaVersion":1,"maxBatch":987654321,"roles":["sekret-value-xyz"]}"""));

        Assert.DoesNotContain("987654321", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sekret", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"pixels":{"min":0}}}""", "/inputs/pixels")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"logits":{"mode":"scores"}}}""", "/outputs/logits")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"probabilities":{"mode":"topk","k":4}}}""", "/outputs/probabilities/k")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"probabilities":{"mode":"label","labels":["a","b"]}}}""", "/outputs/probabilities/labels")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"text":{"min":0,"max":1}}}""", "/inputs/text")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{"maxBytesLength":4}}}""", "/inputs/features/maxBytesLength")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"note":{"mode":"scores"}}}""", "/outputs/note")]
    public void CheckAgainst_RuleThatDoesNotFitTheModel_Rejected(string json, string expectedPath)
    {
        var policy = Parse(json);

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.CheckAgainst(policy, Inputs, Outputs));

        Assert.Equal(expectedPath, error.PolicyPath);
    }

    /// <summary>
    /// Rules the redact stage cannot apply are refused at publish: before, each was accepted and every answer of the
    /// version failed (500) at redaction, after inference and every charge (review, 2026-12-07).
    /// </summary>
    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"ids":{"mode":"label"}}}""", "/outputs/ids")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"ids":{"mode":"scores"}}}""", "/outputs/ids")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"cube":{"mode":"topk","k":2}}}""", "/outputs/cube/mode")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"outputs":{"scores":{"mode":"topk","k":2}}}""", "/outputs/scores/mode")]
    public void CheckAgainst_OutputRuleTheRedactStageCannotApply_Rejected(string json, string expectedPath)
    {
        TensorSpec[] outputs =
        [
            new("ids", TensorDataType.Int64, [-1, 3]),
            new("cube", TensorDataType.Fp32, [-1, 5, 3]),
            new("scores", TensorDataType.Fp32, [-1, 3]),
            new("scores_classes", TensorDataType.Int64, [-1, 3]),
        ];

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.CheckAgainst(Parse(json), Inputs, outputs));

        Assert.Equal(expectedPath, error.PolicyPath);
    }

    /// <summary>
    /// Bounds a double cannot hold for the input's type: a 64-bit integer bound past 2^53 is rounded when read (this
    /// maximum reads as 9007199254740996, which it would admit), and a minimum past FP32's largest finite value was
    /// clamped to it (admitting float.MaxValue). Refused at publish; within those limits accepted.
    /// </summary>
    [Theory]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"ids":{"max":9007199254740995}}}""", "/inputs/ids")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"ids":{"min":-9007199254740993}}}""", "/inputs/ids")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{"min":1e39}}}""", "/inputs/features")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{"max":-1e39}}}""", "/inputs/features")]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"ids":{"min":-9007199254740991,"max":9007199254740991}}}""", null)]
    [InlineData("""{"schemaVersion":1,"maxBatch":1,"inputs":{"features":{"min":-1e39,"max":1e39}}}""", null)]
    public void CheckAgainst_BoundsADoubleCannotHoldForTheType_Rejected(string json, string? expectedPath)
    {
        TensorSpec[] inputs = [new("features", TensorDataType.Fp32, [-1, 4]), new("ids", TensorDataType.Int64, [-1, 2])];

        var error = Record.Exception(() => PolicyLoader.CheckAgainst(Parse(json), inputs, Outputs));

        if (expectedPath is null)
        {
            Assert.Null(error);
        }
        else
        {
            Assert.Equal(expectedPath, Assert.IsType<PolicyException>(error).PolicyPath);
        }
    }

    [Fact]
    public void CheckAgainst_MaxBatchAboveFixedBatchDimension_Rejected()
    {
        var policy = Parse("""{"schemaVersion":1,"maxBatch":4}""");

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.CheckAgainst(
            policy, [new TensorSpec("image", TensorDataType.Fp32, [1, 3, 224, 224])], [new TensorSpec("features", TensorDataType.Fp32, [1, 512])]));

        Assert.Equal("/maxBatch", error.PolicyPath);
    }

    [Fact]
    public void CheckAgainst_UnknownClassCount_AcceptsAnyLabelsAndK()
    {
        var policy = Parse("""{"schemaVersion":1,"maxBatch":1,"outputs":{"scores":{"mode":"topk","k":5,"labels":["a","b"]}}}""");

        PolicyLoader.CheckAgainst(policy, Inputs, [new TensorSpec("scores", TensorDataType.Fp32, [-1, -1])]);
    }

    [Fact]
    public void SchemaText_IsDraft2020WithoutAdditionalProperties()
    {
        Assert.Contains("https://json-schema.org/draft/2020-12/schema", PolicyLoader.SchemaText, StringComparison.Ordinal);
        Assert.Contains("\"additionalProperties\": false", PolicyLoader.SchemaText, StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_Parsed()
    {
        var policy = Parse("""{"schemaVersion":1,"maxBatch":1,"limits":{"requestsPerSecond":2.5,"burst":10,"concurrency":4}}""");

        Assert.Equal(new LimitsPolicy { RequestsPerSecond = 2.5, Burst = 10, Concurrency = 4 }, policy.Limits);
    }

    [Theory]
    [InlineData("""{"requestsPerSecond":0}""")]
    [InlineData("""{"burst":0}""")]
    [InlineData("""{"concurrency":1,"queue":5}""")]
    public void Limits_OutOfRangeOrUnknown_Refused(string limits) =>
        Assert.Throws<PolicyException>(() => Parse("""{"schemaVersion":1,"maxBatch":1,"limits":""" + limits + "}"));

    [Fact]
    public void Parse_NoBatching_Null()
    {
        Assert.Null(Parse("""{"schemaVersion":1,"maxBatch":1}""").Batching);
    }

    [Theory]
    [InlineData("""{"maxBatchSize":32,"maxQueueDelay":"PT0.002S"}""", 32, 2)]
    [InlineData("""{"maxBatchSize":2}""", 2, 0)]
    [InlineData("""{"maxBatchSize":1024,"maxQueueDelay":"PT0.1S"}""", 1024, 100)]
    [InlineData("""{"maxBatchSize":8,"maxQueueDelay":"PT0S"}""", 8, 0)]
    public void Parse_Batching_SizeAndDelay(string batching, int size, int delayMs)
    {
        var policy = Parse("""{"schemaVersion":1,"maxBatch":4,"batching":""" + batching + "}");

        Assert.Equal(new BatchingPolicy { MaxBatchSize = size, MaxQueueDelay = TimeSpan.FromMilliseconds(delayMs) }, policy.Batching);
    }

    [Theory]
    [InlineData("""{"maxBatchSize":1}""", "/batching/maxBatchSize")]
    [InlineData("""{"maxBatchSize":1025}""", "/batching/maxBatchSize")]
    [InlineData("""{"maxBatchSize":2.5}""", "/batching/maxBatchSize")]
    [InlineData("""{"maxQueueDelay":"PT0.002S"}""", "/batching")]
    [InlineData("""{"maxBatchSize":8,"maxQueueDelay":"PT0.101S"}""", "/batching/maxQueueDelay")]
    [InlineData("""{"maxBatchSize":8,"maxQueueDelay":"PT1M"}""", "/batching/maxQueueDelay")]
    [InlineData("""{"maxBatchSize":8,"maxQueueDelay":"2ms"}""", "/batching/maxQueueDelay")]
    [InlineData("""{"maxBatchSize":8,"maxQueueDelay":2}""", "/batching/maxQueueDelay")]
    [InlineData("""{"maxBatchSize":8,"maxQueueDelay":"-PT0.001S"}""", "/batching/maxQueueDelay")]
    [InlineData("""{"maxBatchSize":8,"maxQueueDelayMs":2}""", "/batching/maxQueueDelayMs")]
    public void Parse_BatchingOutOfRangeOrUnknown_RefusedWithPath(string batching, string expectedPath)
    {
        var error = Assert.Throws<PolicyException>(() => Parse("""{"schemaVersion":1,"maxBatch":4,"batching":""" + batching + "}"));

        Assert.Equal(expectedPath, error.PolicyPath);
    }

    [Fact]
    public void Validate_BatchingBuiltInCode_BoundsChecked()
    {
        var tooLong = new ModelPolicy { Batching = new BatchingPolicy { MaxBatchSize = 4, MaxQueueDelay = TimeSpan.FromMilliseconds(101) } };
        var negative = new ModelPolicy { Batching = new BatchingPolicy { MaxBatchSize = 4, MaxQueueDelay = TimeSpan.FromTicks(-1) } };
        var one = new ModelPolicy { Batching = new BatchingPolicy { MaxBatchSize = 1 } };

        Assert.Equal("must be between 0 and 100 milliseconds", Assert.Throws<PolicyException>(() => PolicyLoader.Validate(tooLong)).Reason);
        Assert.Equal("/batching/maxQueueDelay", Assert.Throws<PolicyException>(() => PolicyLoader.Validate(negative)).PolicyPath);
        Assert.Equal("must be between 2 and 1024", Assert.Throws<PolicyException>(() => PolicyLoader.Validate(one)).Reason);
    }

    [Fact]
    public void CheckAgainst_BatchingWithFreeBatchDimensions_Accepted()
    {
        var policy = Parse("""{"schemaVersion":1,"maxBatch":4,"batching":{"maxBatchSize":16}}""");

        PolicyLoader.CheckAgainst(policy, Inputs, Outputs);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CheckAgainst_BatchingWithAFixedOrMissingBatchDimension_Rejected(bool fixedInput)
    {
        var policy = Parse("""{"schemaVersion":1,"maxBatch":1,"batching":{"maxBatchSize":16}}""");
        TensorSpec[] inputs = fixedInput ? [new("image", TensorDataType.Fp32, [1, 3, 224, 224])] : Inputs;
        TensorSpec[] outputs = fixedInput ? [new("features", TensorDataType.Fp32, [1, 512])] : [new("score", TensorDataType.Fp32, [])];

        var error = Assert.Throws<PolicyException>(() => PolicyLoader.CheckAgainst(policy, inputs, outputs));

        Assert.Equal("/batching", error.PolicyPath);
    }

    private static ModelPolicy Parse(string json) => PolicyLoader.Parse(Encoding.UTF8.GetBytes(json));
}
