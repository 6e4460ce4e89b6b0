using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;

namespace ServerlessServe.Local;

/// <summary>
/// One signing key of the local issuer: ES256 (P-256) or RS256 (RSA 2048), its key id (<see cref="KeyIds"/> of its
/// public key), its public JWK for the key set, and a <see cref="TokenIssuer"/> that signs with it.
/// </summary>
public sealed class LocalIssuerKey : IDisposable
{
    public const string Es256 = "ES256";
    public const string Rs256 = "RS256";

    private readonly ECDsa? _ec;
    private readonly RSA? _rsa;

    private LocalIssuerKey(ECDsa? ec, RSA? rsa)
    {
        _ec = ec;
        _rsa = rsa;
        KeyId = ec is not null ? KeyIds.Compute(ec) : KeyIds.Compute(rsa!.ExportSubjectPublicKeyInfo());
    }

    /// <summary><see cref="Es256"/> or <see cref="Rs256"/>.</summary>
    public string Algorithm => _ec is not null ? Es256 : Rs256;

    public string KeyId { get; }

    /// <summary>A new random key for <paramref name="algorithm"/>.</summary>
    public static LocalIssuerKey Create(string algorithm) => algorithm switch
    {
        Es256 => new LocalIssuerKey(SigningKeys.CreateP256(), null),
        Rs256 => new LocalIssuerKey(null, RSA.Create(2048)),
        _ => throw new ArgumentException($"The local issuer signs with {Es256} or {Rs256}, not {algorithm}.", nameof(algorithm)),
    };

    /// <summary>Loads a PEM private key file: a P-256 key is ES256, an RSA key RS256.</summary>
    public static LocalIssuerKey Load(string path)
    {
        var pem = File.ReadAllText(path);
        if (pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal))
        {
            return new LocalIssuerKey(SigningKeys.ImportPrivateKeyPem(pem), null);
        }

        if (pem.Contains("RSA PRIVATE KEY", StringComparison.Ordinal))
        {
            return FromRsaPem(pem);
        }

        // PKCS#8 (PRIVATE KEY) holds either: the algorithm identifier inside tells.
        try
        {
            return new LocalIssuerKey(SigningKeys.ImportPrivateKeyPem(pem), null);
        }
        catch (CryptographicException)
        {
            return FromRsaPem(pem);
        }
    }

    /// <summary>The public key as SubjectPublicKeyInfo PEM.</summary>
    public string ExportPublicKeyPem() => _ec is not null ? _ec.ExportSubjectPublicKeyInfoPem() : _rsa!.ExportSubjectPublicKeyInfoPem();

    /// <summary>Signs <paramref name="data"/> as a JWS with this key's algorithm does (ES256: r‖s; RS256: PKCS#1 v1.5, SHA-256).</summary>
    public byte[] SignData(byte[] data) =>
        _ec is not null
            ? _ec.SignData(data, HashAlgorithmName.SHA256)
            : _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public string ExportPrivateKeyPem() => _ec is not null ? _ec.ExportPkcs8PrivateKeyPem() : _rsa!.ExportPkcs8PrivateKeyPem();

    /// <summary>An issuer that signs tokens with <c>iss</c> <paramref name="issuer"/> and this key's <c>kid</c>.</summary>
    public TokenIssuer Issuer(string issuer, TimeProvider time) =>
        _ec is not null ? new TokenIssuer(_ec, issuer, time) : new TokenIssuer(_rsa!, issuer, time);

    /// <summary>Writes this key's public JWK (RFC 7517/7518) with <c>use</c>, <c>alg</c> and <c>kid</c>.</summary>
    public void WritePublicJwk(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        if (_ec is not null)
        {
            var point = _ec.ExportParameters(includePrivateParameters: false).Q;
            writer.WriteString("kty", "EC");
            writer.WriteString("crv", "P-256");
            writer.WriteString("x", Base64Url.EncodeToString(point.X));
            writer.WriteString("y", Base64Url.EncodeToString(point.Y));
        }
        else
        {
            var parameters = _rsa!.ExportParameters(includePrivateParameters: false);
            writer.WriteString("kty", "RSA");
            writer.WriteString("n", Base64Url.EncodeToString(parameters.Modulus));
            writer.WriteString("e", Base64Url.EncodeToString(parameters.Exponent));
        }

        writer.WriteString("use", "sig");
        writer.WriteString("alg", Algorithm);
        writer.WriteString("kid", KeyId);
        writer.WriteEndObject();
    }

    public void Dispose()
    {
        _ec?.Dispose();
        _rsa?.Dispose();
    }

    private static LocalIssuerKey FromRsaPem(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new LocalIssuerKey(null, rsa);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }
}
