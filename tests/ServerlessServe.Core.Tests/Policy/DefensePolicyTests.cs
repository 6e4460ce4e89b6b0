using System.Text;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

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

    private static ModelPolicy Parse(string defenses, int maxBatch = 4) =>
        PolicyLoader.Parse(Encoding.UTF8.GetBytes("""{"schemaVersion":1,"maxBatch":""" + maxBatch + ""","defenses":""" + defenses + "}"));
}
