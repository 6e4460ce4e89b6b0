using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Core.Tests.Audit;

public class AuditCheckpointTests
{
    [Fact]
    public void Create_Signed_VerifiesAndRoundTrips()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var checkpoint = AuditCheckpoint.Create("w", 100, new string('a', 64), AuditTestData.BaseTime, key);

        Assert.True(AuditCheckpoint.TryParse(checkpoint.ToJson(), out var parsed));
        Assert.Equal(checkpoint, parsed);
        Assert.True(parsed!.VerifySignature(key));
        Assert.StartsWith("{\"writerId\":\"w\",\"seq\":100,", Encoding.ASCII.GetString(checkpoint.ToJson()), StringComparison.Ordinal);
    }

    [Fact]
    public void VerifySignature_AlteredOrOtherKey_False()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var checkpoint = AuditCheckpoint.Create("w", 100, new string('a', 64), AuditTestData.BaseTime, key);

        Assert.False((checkpoint with { Seq = 101 }).VerifySignature(key));
        Assert.False((checkpoint with { Hash = new string('b', 64) }).VerifySignature(key));
        Assert.False(checkpoint.VerifySignature(other));
    }

    [Fact]
    public void Create_KeyId_IsTheSigningKeysKeyId()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var checkpoint = AuditCheckpoint.Create("w", 100, new string('a', 64), AuditTestData.BaseTime, key);

        Assert.Equal(KeyIds.Compute(key), checkpoint.KeyId);
    }

    [Fact]
    public void CreateTreeHead_Signed_VerifiesRoundTripsAndIsFormat2()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var head = AuditCheckpoint.CreateTreeHead("w", 100, new string('a', 64), new string('b', 64), new string('0', 64), AuditTestData.BaseTime, key);

        Assert.True(AuditCheckpoint.TryParse(head.ToJson(), out var parsed));
        Assert.Equal(head, parsed);
        Assert.True(parsed!.IsTreeHead);
        Assert.True(parsed.VerifySignature(key));
        Assert.StartsWith("{\"v\":2,\"writerId\":\"w\",\"treeSize\":100,", Encoding.ASCII.GetString(head.ToJson()), StringComparison.Ordinal);
        Assert.False((head with { Root = new string('c', 64) }).VerifySignature(key));
        Assert.False((head with { PrevHead = new string('c', 64) }).VerifySignature(key));
        Assert.NotEqual(head.HeadHash(), (head with { Signature = "x" }).HeadHash());
    }

    [Fact]
    public void TryParse_TreeHeadWithExtraOrMissingProperty_False()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var json = Encoding.ASCII.GetString(AuditCheckpoint.CreateTreeHead("w", 1, new string('a', 64), new string('b', 64), new string('0', 64), AuditTestData.BaseTime, key).ToJson());

        Assert.False(AuditCheckpoint.TryParse(Encoding.ASCII.GetBytes(json.Replace("\"v\":2", "\"v\":3", StringComparison.Ordinal)), out _));
        Assert.False(AuditCheckpoint.TryParse(Encoding.ASCII.GetBytes(json.Replace(",\"prevHead\":\"" + new string('0', 64) + "\"", string.Empty, StringComparison.Ordinal)), out _));
        Assert.False(AuditCheckpoint.TryParse(Encoding.ASCII.GetBytes(json.Replace("\"treeSize\"", "\"seq\"", StringComparison.Ordinal)), out _));
    }

    [Fact]
    public void WitnessHead_Countersigned_RoundTripsAndVerifiesOnlyWithTheWitnessKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var witnessKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var head = AuditCheckpoint.CreateTreeHead("w", 7, new string('a', 64), new string('b', 64), new string('0', 64), AuditTestData.BaseTime, key);
        var copy = AuditWitnessHead.Create(head, witnessKey);

        Assert.True(AuditWitnessHead.TryParse(copy.ToJson(), out var parsed));
        Assert.Equal(head, parsed!.Head);
        Assert.True(parsed.VerifyWitnessSignature(witnessKey));
        Assert.False(parsed.VerifyWitnessSignature(key));
        Assert.False((parsed with { Head = head with { Seq = 8 } }).VerifyWitnessSignature(witnessKey));
    }
}
