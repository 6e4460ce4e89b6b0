using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Identity;

/// <summary>
/// Validates ES256 bearer tokens against pinned public keys, one issuer and one audience. Anything else — another
/// algorithm, an unknown key, an expired token, a token without expiry, a lifetime above the maximum — is refused.
/// </summary>
public sealed class TokenValidator
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;
    private readonly TimeSpan _maxLifetime;
    private readonly TimeProvider _time;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (CallerIdentity Caller, DateTimeOffset Expires)> _verified = new(StringComparer.Ordinal);

    public TokenValidator(IEnumerable<ECDsa> trustedKeys, string issuer, string audience, TimeProvider time, TimeSpan maxLifetime, TimeSpan clockSkew)
    {
        ArgumentNullException.ThrowIfNull(trustedKeys);
        ArgumentNullException.ThrowIfNull(time);
        var keys = trustedKeys.Select(k => (SecurityKey)new ECDsaSecurityKey(k) { KeyId = KeyIds.Compute(k) }).ToList();
        if (keys.Count == 0)
        {
            throw new ArgumentException("At least one trusted key is required.", nameof(trustedKeys));
        }

        _maxLifetime = maxLifetime;
        _time = time;
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            IssuerSigningKeys = keys,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = clockSkew,
            TryAllIssuerSigningKeys = true,
            LifetimeValidator = (notBefore, expires, _, p) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return expires is { } exp && notBefore is { } nbf
                    && exp - nbf <= _maxLifetime
                    && nbf <= now + p.ClockSkew
                    && exp >= now - p.ClockSkew;
            },
        };
    }

    /// <summary>Returns the caller, or null when the token is not valid. The reason is never echoed to the caller.</summary>
    public async Task<CallerIdentity?> ValidateAsync(string? token)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 8192)
        {
            return null;
        }

        // A signature check costs ~0.2 ms; a token already verified is accepted from memory until it expires.
        // Only successes are remembered, keyed by the token's SHA-256, never past the token's own expiry.
        var cacheKey = Convert.ToBase64String(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        var now = _time.GetUtcNow();
        if (_verified.TryGetValue(cacheKey, out var hit))
        {
            if (now <= hit.Expires)
            {
                return hit.Caller;
            }

            _verified.TryRemove(cacheKey, out _);
        }

        var result = await _handler.ValidateTokenAsync(token, _parameters).ConfigureAwait(false);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt || string.IsNullOrEmpty(jwt.Subject))
        {
            return null;
        }

        var roles = jwt.Claims.Where(c => c.Type is "roles" or "role").Select(c => c.Value).Distinct(StringComparer.Ordinal).ToArray();
        var caller = new CallerIdentity(jwt.Subject, roles);
        if (_verified.Count >= MaxCachedTokens)
        {
            _verified.Clear();
        }

        _verified[cacheKey] = (caller, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + _parameters.ClockSkew);
        return caller;
    }

    /// <summary>Most verified tokens remembered at once; the cache is emptied when full.</summary>
    public const int MaxCachedTokens = 10_000;

    /// <summary>Extracts the token from an <c>Authorization: Bearer …</c> header value, or null.</summary>
    public static string? BearerToken(string? authorizationHeader)
    {
        const string Prefix = "Bearer ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = authorizationHeader[Prefix.Length..].Trim();
        return token.Length == 0 ? null : token;
    }
}
