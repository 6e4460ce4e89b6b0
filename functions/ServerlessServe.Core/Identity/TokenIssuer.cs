using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Identity;

/// <summary>Mints ES256 JWTs: caller tokens from the local issuer, and short-lived gateway → inference service tokens.</summary>
public sealed class TokenIssuer
{
    private readonly SigningCredentials _credentials;
    private readonly string _issuer;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public TokenIssuer(ECDsa signingKey, string issuer, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(issuer);
        // No provider caching: the cache is keyed by key id, and a caller may dispose this ECDsa and later create
        // another issuer for the same key id.
        var securityKey = new ECDsaSecurityKey(signingKey)
        {
            KeyId = KeyIds.Compute(signingKey),
            CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
        };
        _credentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256);
        _issuer = issuer;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public string Issuer => _issuer;

    /// <summary>Creates a signed token for <paramref name="subject"/> valid for <paramref name="lifetime"/>.</summary>
    public string Mint(string subject, string audience, TimeSpan lifetime, IEnumerable<string>? roles = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(subject);
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        if (lifetime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime));
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            [JwtRegisteredClaimNames.Sub] = subject,
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
        };
        if (roles is not null)
        {
            claims["roles"] = roles.ToArray();
        }


        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = _issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = claims,
            SigningCredentials = _credentials,
        };
        return _handler.CreateToken(descriptor);
    }
}
