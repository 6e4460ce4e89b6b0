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
}
