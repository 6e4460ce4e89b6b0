using System.Security.Cryptography;

namespace ServerlessServe.Core.Identity;

/// <summary>ECDSA P-256 key helpers shared by tokens, model signing and audit checkpoints.</summary>
public static class EcKeys
{
    /// <summary>Creates a new P-256 key pair.</summary>
    public static ECDsa Create() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>Imports a PEM private or public key and checks it is P-256.</summary>
    public static ECDsa FromPem(string pem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            if (key.KeySize != 256)
            {
                throw new CryptographicException("Only ECDSA P-256 keys are accepted.");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>Lowercase hex of the first 16 bytes of SHA-256 over the SubjectPublicKeyInfo.</summary>
    public static string KeyId(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var digest = SHA256.HashData(key.ExportSubjectPublicKeyInfo());
        return Convert.ToHexStringLower(digest.AsSpan(0, 16));
    }

    public static string ExportPrivatePem(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportPkcs8PrivateKeyPem();
    }

    public static string ExportPublicPem(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportSubjectPublicKeyInfoPem();
    }
}
