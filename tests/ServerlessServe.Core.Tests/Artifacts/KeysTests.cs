using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Tests.Artifacts;

public sealed class KeysTests
{
    [Fact]
    public void Compute_IsFirst16BytesOfSha256OverSubjectPublicKeyInfo()
    {
        using var key = SigningKeys.CreateP256();

        var expected = Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo())[..16]);

        Assert.Equal(expected, KeyIds.Compute(key));
        Assert.True(KeyIds.IsWellFormed(KeyIds.Compute(key)));
    }

    [Fact]
    public void PemRoundTrip_KeepsKeyAndKeyId()
    {
        using var key = SigningKeys.CreateP256();

        using var privateCopy = SigningKeys.ImportPrivateKeyPem(SigningKeys.ExportPrivateKeyPem(key));
        using var publicCopy = SigningKeys.ImportPublicKeyPem(SigningKeys.ExportPublicKeyPem(key));

        Assert.Equal(KeyIds.Compute(key), KeyIds.Compute(privateCopy));
        Assert.Equal(KeyIds.Compute(key), KeyIds.Compute(publicCopy));
        var signature = privateCopy.SignData("x"u8, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.True(publicCopy.VerifyData("x"u8, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    [Fact]
    public void ImportPublicKeyPem_PrivateKey_Refused()
    {
        using var key = SigningKeys.CreateP256();

        Assert.Throws<CryptographicException>(() => SigningKeys.ImportPublicKeyPem(SigningKeys.ExportPrivateKeyPem(key)));
    }

    [Fact]
    public void ImportPublicKeyPem_OtherCurve_Refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<CryptographicException>(() => SigningKeys.ImportPublicKeyPem(p384.ExportSubjectPublicKeyInfoPem()));
    }

    [Fact]
    public void ImportPem_PrivateOrPublicPem_SameKeyId()
    {
        using var key = SigningKeys.CreateP256();
        using var fromPrivate = SigningKeys.ImportPem(SigningKeys.ExportPrivateKeyPem(key));
        using var fromPublic = SigningKeys.ImportPem(SigningKeys.ExportPublicKeyPem(key));

        Assert.Equal(KeyIds.Compute(key), KeyIds.Compute(fromPrivate));
        Assert.Equal(KeyIds.Compute(key), KeyIds.Compute(fromPublic));
    }

    [Fact]
    public void ImportPem_OtherCurve_Refused()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);

        Assert.Throws<CryptographicException>(() => SigningKeys.ImportPem(p384.ExportPkcs8PrivateKeyPem()));
    }

    [Fact]
    public void Verify_SignatureFromTrustedKey_ReturnsItsKeyId()
    {
        using var key = SigningKeys.CreateP256();
        using var trusted = TrustedSigners.FromKeys(key);
        var data = "{\"manifest\":1}"u8.ToArray();

        var signature = Encoding.ASCII.GetBytes(ManifestSignature.Sign(data, key));

        Assert.Equal(KeyIds.Compute(key), ManifestSignature.Verify(data, signature, trusted));
    }

    [Fact]
    public void Verify_UnknownSignerOrAlteredBytes_ReturnsNull()
    {
        using var trustedKey = SigningKeys.CreateP256();
        using var stranger = SigningKeys.CreateP256();
        using var trusted = TrustedSigners.FromKeys(trustedKey);
        var data = "{\"manifest\":1}"u8.ToArray();

        Assert.Null(ManifestSignature.Verify(data, Encoding.ASCII.GetBytes(ManifestSignature.Sign(data, stranger)), trusted));
        Assert.Null(ManifestSignature.Verify("{\"manifest\":2}"u8, Encoding.ASCII.GetBytes(ManifestSignature.Sign(data, trustedKey)), trusted));
        Assert.Null(ManifestSignature.Verify(data, "not base64!"u8, trusted));
        Assert.Null(ManifestSignature.Verify(data, Encoding.ASCII.GetBytes(Convert.ToBase64String(new byte[72])), trusted));
    }
}
