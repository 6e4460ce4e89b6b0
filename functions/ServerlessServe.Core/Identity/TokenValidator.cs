using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Identity;

/// <summary>
/// Validates ES256 bearer tokens against pinned public keys, one issuer and one audience: the gateway's service tokens
/// on the inference app. Anything else — another algorithm, a token that brings its own key, no or an unknown key id,
/// an expired token, a token without expiry, a lifetime above the maximum — is refused. Callers are validated against
/// their issuer's OIDC metadata instead (<see cref="OidcTokenValidator"/>).
/// </summary>
public sealed class TokenValidator : IBearerTokenValidator
{
    /// <summary>Longest token accepted, in characters.</summary>
    public const int MaxTokenLength = 8192;

    private static readonly string[] Algorithms = [SecurityAlgorithms.EcdsaSha256];

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;
    private readonly TimeSpan _maxLifetime;
    private readonly TimeProvider _time;
    private readonly VerifiedTokenCache _verified;

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
        _verified = new VerifiedTokenCache(time);
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = issuer,
            ValidAudience = audience,
            IssuerSigningKeys = keys,
            ValidAlgorithms = Algorithms,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = clockSkew,
            TryAllIssuerSigningKeys = false,
            LifetimeValidator = (notBefore, expires, _, p) => notBefore is not null && TokenScreen.LifetimeValid(notBefore, expires, time.GetUtcNow(), p.ClockSkew, _maxLifetime),
        };
    }

    /// <summary>The caller, or why the token is refused. The reason is never echoed to the caller.</summary>
    public async Task<TokenVerdict> ValidateAsync(string? token, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return TokenVerdict.Refused(TokenFailure.Missing);
        }

        if (token.Length > MaxTokenLength)
        {
            return TokenVerdict.Refused(TokenFailure.TooLarge);
        }

        if (_verified.TryGet(token, out var remembered))
        {
            return TokenVerdict.Accepted(remembered!);
        }

        if (TokenScreen.Read(_handler, token, Algorithms, out var jwt) is { } unreadable)
        {
            return TokenVerdict.Refused(unreadable);
        }

        if (TokenScreen.CheckLifetime(jwt!, _time.GetUtcNow(), _parameters.ClockSkew, _maxLifetime) is { } outOfTime)
        {
            return TokenVerdict.Refused(outOfTime);
        }

        var result = await _handler.ValidateTokenAsync(jwt, _parameters).ConfigureAwait(false);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken validated)
        {
            return TokenVerdict.Refused(TokenScreen.FromException(result.Exception));
        }

        if (TokenScreen.Caller(validated) is not { } caller)
        {
            return TokenVerdict.Refused(TokenFailure.NoSubject);
        }

        _verified.Add(token, caller, new DateTimeOffset(validated.ValidTo, TimeSpan.Zero) + _parameters.ClockSkew);
        return TokenVerdict.Accepted(caller);
    }

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
