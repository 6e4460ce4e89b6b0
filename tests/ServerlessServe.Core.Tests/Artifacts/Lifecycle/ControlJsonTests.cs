using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;

namespace ServerlessServe.Core.Tests.Artifacts.Lifecycle;

public sealed class ControlJsonTests
{
    private static readonly string KeyId = KeyIds.Compute(TestPackages.Signer);

    [Fact]
    public void Lifecycle_RoundTrips_VersionsInNaturalOrder()
    {
        var lifecycle = Lifecycle(new Dictionary<string, VersionLifecycle>
        {
            ["10"] = new(VersionState.Retired),
            ["9"] = new(VersionState.Deprecated, At(1), At(30)),
        }) with { Default = "11" };

        var bytes = ControlJson.Serialize(lifecycle);
        var parsed = ControlJson.ParseLifecycle(bytes);

        Assert.Equal(["9", "10"], parsed.Versions.Keys);
        Assert.Equal("11", parsed.Default);
        Assert.Equal(new VersionLifecycle(VersionState.Deprecated, At(1), At(30)), parsed.Versions["9"]);
        Assert.True(Encoding.UTF8.GetString(bytes).IndexOf("\"9\"", StringComparison.Ordinal) < Encoding.UTF8.GetString(bytes).IndexOf("\"10\"", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{},"extra":1}""", "unknown property")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":0,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{}}""", "sequence 0")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{"1":{"state":"deprecated"}}}""", "deprecated without dates")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{"1":{"state":"deprecated","since":"2026-03-02T00:00:00+00:00","until":"2026-03-01T00:00:00+00:00"}}}""", "until before since")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{"1":{"state":"retired","until":"2026-03-01T00:00:00+00:00"}}}""", "retired with a date")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{"1":{"state":"active"}}}""", "active entry")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","default":"1","versions":{"1":{"state":"retired"}}}""", "retired default")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{"../x":{"state":"retired"}}}""", "bad version")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00.5+00:00","signerKeyId":"KEY","versions":{}}""", "fractional issued")]
    [InlineData("""{"schemaVersion":1,"name":"m","sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":{},}""", "trailing comma")]
    public void ParseLifecycle_Malformed_Refused(string json, string why)
    {
        Assert.NotNull(why);
        Assert.Throws<ControlDocumentException>(() => ControlJson.ParseLifecycle(Encoding.UTF8.GetBytes(json.Replace("KEY", KeyId, StringComparison.Ordinal))));
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":[{"name":"m","version":"1","manifestSha256":"abc"}],"signers":[]}""", "short digest")]
    [InlineData("""{"schemaVersion":1,"sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":[],"signers":["KEY","KEY"]}""", "repeated signer")]
    [InlineData("""{"schemaVersion":1,"sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":[],"signers":["nothex"]}""", "bad key id")]
    [InlineData("""{"schemaVersion":2,"sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":[],"signers":[]}""", "schema 2")]
    [InlineData("""{"schemaVersion":1,"sequence":1,"issued":"2026-03-01T00:00:00+00:00","signerKeyId":"KEY","versions":[]}""", "signers missing")]
    public void ParseRevocations_Malformed_Refused(string json, string why)
    {
        Assert.NotNull(why);
        Assert.Throws<ControlDocumentException>(() => ControlJson.ParseRevocations(Encoding.UTF8.GetBytes(json.Replace("KEY", KeyId, StringComparison.Ordinal))));
    }

    [Fact]
    public void StateAt_DeprecatedPastUntil_Retired()
    {
        var lifecycle = Lifecycle(new Dictionary<string, VersionLifecycle> { ["1"] = new(VersionState.Deprecated, At(1), At(10)) });

        Assert.Equal(VersionState.Deprecated, lifecycle.StateAt("1", At(9)));
        Assert.Equal(new VersionDeprecation(At(1), At(10)), lifecycle.DeprecationAt("1", At(9)));
        Assert.Equal(VersionState.Retired, lifecycle.StateAt("1", At(10)));
        Assert.Null(lifecycle.DeprecationAt("1", At(10)));
        Assert.Equal(VersionState.Active, lifecycle.StateAt("2", At(10)));
    }

    private static DateTimeOffset At(int day) => new(2026, 3, day, 0, 0, 0, TimeSpan.Zero);

    private static ModelLifecycle Lifecycle(Dictionary<string, VersionLifecycle> versions) => new()
    {
        SchemaVersion = 1,
        Name = "credit-risk",
        Sequence = 1,
        Issued = At(1),
        SignerKeyId = KeyId,
        Versions = versions,
    };
}
