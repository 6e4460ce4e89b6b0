using ServerlessServe.Core.Artifacts;
using StateFolder = ServerlessServe.Local.LocalState;

namespace ServerlessServe.Hosting.Tests.LocalTools;

/// <summary>
/// <c>ssctl keys create</c> (and every start of the local stack) keeps what exists. Found in review (2026-12-07): a
/// public key whose private key was gone was written over by a new pair's, though it may be the only copy that verifies
/// an existing audit trail (a deployment's hooks keep the audit private keys in Key Vault only and the public keys
/// locally, and regenerating keys runs this); and a private key left without its public key stayed broken.
/// </summary>
public sealed class LocalStateKeysTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("serverlessserve-keys-").FullName;

    [Fact]
    public void EnsureKeys_PublicKeyWithoutItsPrivateKey_KeptBesideTheNewPair()
    {
        var state = new StateFolder(_directory);
        Assert.NotEmpty(state.EnsureKeys());
        var earlier = File.ReadAllText(state.AuditCheckpointPublicKey);
        File.Delete(state.AuditCheckpointKey);

        var report = state.EnsureKeys();

        var kept = Directory.GetFiles(state.KeysDirectory, "audit-checkpoint.pub.pem.replaced-*");
        Assert.Equal(earlier, File.ReadAllText(Assert.Single(kept)));
        Assert.Contains(report, line => line.Contains(Path.GetFileName(kept[0]), StringComparison.Ordinal));
        using var newPrivate = SigningKeys.ImportPem(File.ReadAllText(state.AuditCheckpointKey));
        using var newPublic = SigningKeys.ImportPem(File.ReadAllText(state.AuditCheckpointPublicKey));
        Assert.Equal(KeyIds.Compute(newPrivate), KeyIds.Compute(newPublic));
        Assert.NotEqual(earlier, File.ReadAllText(state.AuditCheckpointPublicKey));
        Assert.Empty(Directory.GetFiles(state.KeysDirectory, "*.tmp-*"));
    }

    [Fact]
    public void EnsureKeys_PrivateKeyWithoutItsPublicKey_PublicMadeAgainFromIt()
    {
        var state = new StateFolder(_directory);
        state.EnsureKeys();
        var privateBefore = File.ReadAllText(state.ModelSigningKey);
        var publicBefore = File.ReadAllText(state.ModelSigningPublicKey);
        File.Delete(state.ModelSigningPublicKey);

        var report = state.EnsureKeys();

        Assert.Equal(["model-signing.pub.pem (made again from its private key)"], report);
        Assert.Equal(privateBefore, File.ReadAllText(state.ModelSigningKey));
        Assert.Equal(publicBefore, File.ReadAllText(state.ModelSigningPublicKey));
        Assert.Empty(state.EnsureKeys());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
