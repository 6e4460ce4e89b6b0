using System.Security.Cryptography;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// ECDSA P-256 keys and their PEM forms (PKCS#8 <c>PRIVATE KEY</c>, SubjectPublicKeyInfo <c>PUBLIC KEY</c>), for every
/// signature the platform makes: model manifests, bearer tokens and audit checkpoints. Key ids are in <see cref="KeyIds"/>.
/// </summary>
public static class SigningKeys
{
    private const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>A new random P-256 key pair.</summary>
    public static ECDsa CreateP256() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The private key as PKCS#8 PEM.</summary>
    public static string ExportPrivateKeyPem(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>The public key as SubjectPublicKeyInfo PEM.</summary>
    public static string ExportPublicKeyPem(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.ExportSubjectPublicKeyInfoPem();
    }

    /// <summary>Loads a P-256 private key from PEM (<c>PRIVATE KEY</c> or <c>EC PRIVATE KEY</c>).</summary>
    public static ECDsa ImportPrivateKeyPem(string pem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        var label = Label(pem);
        if (label is not ("PRIVATE KEY" or "EC PRIVATE KEY"))
        {
            throw new CryptographicException("Expected a PEM private key.");
        }

        return ImportP256(pem);
    }

    /// <summary>
    /// Loads a P-256 key from PEM, private or public: for a setting or file that may hold either (a verifier given the
    /// signer's own key still verifies with its public part).
    /// </summary>
    public static ECDsa ImportPem(string pem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        return ImportP256(pem);
    }

    /// <summary>Loads a P-256 public key from a SubjectPublicKeyInfo PEM; a private key is refused.</summary>
    public static ECDsa ImportPublicKeyPem(string pem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        if (Label(pem) != "PUBLIC KEY")
        {
            throw new CryptographicException("Expected a PEM public key (SubjectPublicKeyInfo).");
        }

        return ImportP256(pem);
    }

    private static string? Label(string pem)
    {
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw new CryptographicException("No PEM block found.");
        }

        return pem[fields.Label];
    }

    private static ECDsa ImportP256(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            var oid = key.ExportParameters(includePrivateParameters: false).Curve.Oid;
            if (oid?.Value != P256Oid && oid?.FriendlyName is not ("nistP256" or "ECDSA_P256"))
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
}
