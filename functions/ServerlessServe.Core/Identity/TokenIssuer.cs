using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Identity;

/// <summary>
/// Mints signed JWTs with a <c>kid</c> header: ES256 from a P-256 key (the local issuer's default) or RS256 from an RSA
/// key (the local issuer's second key, as Entra ID signs). The apps never mint tokens: the local issuer and the tests do.
/// </summary>
public sealed class TokenIssuer
{
    private readonly SigningCredentials _credentials;
    private readonly string _issuer;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>An ES256 issuer; the key id is <see cref="KeyIds.Compute(ECDsa)"/>.</summary>
    public TokenIssuer(ECDsa signingKey, string issuer, TimeProvider time)
        : this(EcdsaKey(signingKey), SecurityAlgorithms.EcdsaSha256, issuer, time)
    {
    }

    /// <summary>An RS256 issuer; the key id is <see cref="KeyIds.Compute(ReadOnlySpan{byte})"/> of its public key.</summary>
    public TokenIssuer(RSA signingKey, string issuer, TimeProvider time)
        : this(RsaKey(signingKey), SecurityAlgorithms.RsaSha256, issuer, time)
    {
    }

    private TokenIssuer(SecurityKey key, string algorithm, string issuer, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        _credentials = new SigningCredentials(key, algorithm);
        _issuer = issuer;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public string Issuer => _issuer;

    /// <summary>The <c>kid</c> of every token this issuer mints.</summary>
    public string KeyId => _credentials.Key.KeyId;

    /// <summary>
    /// The <c>azp</c> of a minted token whose claims name no <c>azp</c> or <c>appid</c>: the client the
    /// local issuer stands for, so what it mints is an access token as Entra ID's are
    /// (<see cref="OidcValidationPolicy.RequireAccessToken"/>).
    /// </summary>
    public const string LocalClientId = "serverlessserve-local-client";

    /// <summary>
    /// Creates a signed access token for <paramref name="subject"/> valid for <paramref name="lifetime"/>, with
    /// <paramref name="claims"/> added (e.g. <c>oid</c>, <c>azp</c> and <c>appid</c> of a managed identity's token;
    /// <c>azp</c> is <see cref="LocalClientId"/> when they name neither).
    /// </summary>
    public string Mint(string subject, string audience, TimeSpan lifetime, IEnumerable<string>? roles = null, IReadOnlyDictionary<string, string>? claims = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        if (lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime));
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var payload = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = subject,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
        };
        if (roles is not null)
        {
            payload["roles"] = roles.ToArray();
        }

        if (claims is null || !(claims.ContainsKey("azp") || claims.ContainsKey("appid")))
        {
            payload["azp"] = LocalClientId;
        }

        foreach (var (name, value) in claims ?? new Dictionary<string, string>())
        {
            payload[name] = value;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = _issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = payload,
            SigningCredentials = _credentials,
        };
        return _handler.CreateToken(descriptor);
    }

    // No provider caching: the cache is keyed by key id, and a caller may dispose the key and later create another
    // issuer for the same key id.
    private static ECDsaSecurityKey EcdsaKey(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new ECDsaSecurityKey(key) { KeyId = KeyIds.Compute(key), CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };
    }

    private static RsaSecurityKey RsaKey(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return new RsaSecurityKey(key) { KeyId = KeyIds.Compute(key.ExportSubjectPublicKeyInfo()), CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };
    }
}
