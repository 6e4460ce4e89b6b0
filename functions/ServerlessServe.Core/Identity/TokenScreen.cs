using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ServerlessServe.Core.Identity;

/// <summary>
/// The checks made before any key is looked up or any signature verified, the same for every issuer: the token's shape,
/// its algorithm, headers that would bring their own key, the key id, and its lifetime against an injected clock. Cheap,
/// so a flood of forged tokens costs a parse each, never a signature check or a metadata fetch.
/// </summary>
internal static class TokenScreen
{
    // Headers that name or carry a key. Keys come from the trusted issuer's metadata only; a token that offers its own
    // is refused outright (and `crit` names extensions this validator does not implement, so it must refuse it too).
    private static readonly string[] RefusedHeaders = ["jku", "x5u", "jwk", "x5c"];

    // The seconds a DateTimeOffset holds: 0001-01-01 to 9999-12-31.
    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>Parses <paramref name="token"/> and screens its header; null when it may go on to key lookup.</summary>
    public static TokenFailure? Read(JsonWebTokenHandler handler, string token, IReadOnlyCollection<string> algorithms, out JsonWebToken? jwt)
    {
        jwt = null;
        JsonWebToken read;
        try
        {
            read = handler.ReadJsonWebToken(token);
        }
        catch (SecurityTokenMalformedException)
        {
            return TokenFailure.Malformed;
        }
        catch (ArgumentException)
        {
            return TokenFailure.Malformed;
        }
        catch (FormatException)
        {
            return TokenFailure.Malformed;
        }
        catch (System.Text.Json.JsonException)
        {
            return TokenFailure.Malformed;
        }

        if (read.IsEncrypted || read.TryGetHeaderValue<object>("crit", out _))
        {
            return TokenFailure.Malformed;
        }

        if (!algorithms.Contains(read.Alg))
        {
            return TokenFailure.Algorithm;
        }

        foreach (var header in RefusedHeaders)
        {
            if (read.TryGetHeaderValue<object>(header, out _))
            {
                return TokenFailure.KeyLocationHeader;
            }
        }

        if (string.IsNullOrEmpty(read.Kid))
        {
            return TokenFailure.MissingKeyId;
        }

        jwt = read;
        return null;
    }

    /// <summary>
    /// <c>exp</c> required and not past (beyond <paramref name="skew"/>), <c>nbf</c> if present not ahead, and the
    /// lifetime from <c>nbf</c> (else <c>iat</c>; one of them required) to <c>exp</c> at most <paramref name="maxLifetime"/>.
    /// </summary>
    public static TokenFailure? CheckLifetime(JsonWebToken jwt, DateTimeOffset now, TimeSpan skew, TimeSpan maxLifetime)
    {
        if (!jwt.TryGetPayloadValue<object>(JwtRegisteredClaimNames.Exp, out _))
        {
            return TokenFailure.NoExpiry;
        }

        DateTime expires, notBefore, issuedAt;
        try
        {
            expires = jwt.ValidTo;
            notBefore = jwt.ValidFrom;
            issuedAt = jwt.IssuedAt;
        }
        catch (SecurityTokenException)
        {
            return TokenFailure.Malformed;
        }
        catch (ArgumentException)
        {
            return TokenFailure.Malformed;
        }

        if (notBefore == DateTime.MinValue && issuedAt == DateTime.MinValue)
        {
            // With no start, its lifetime would be measured from now: a token valid for a year passes in its last day,
            // long after any revocation of it (kept for one lifetime) has lapsed (found in review 2026-12-07).
            return TokenFailure.LifetimeTooLong;
        }

        return Check(notBefore == DateTime.MinValue ? null : notBefore, expires, issuedAt == DateTime.MinValue ? null : issuedAt, now.UtcDateTime, skew, maxLifetime);
    }

    /// <summary>The same rule for the token library's lifetime hook (it passes <c>nbf</c> and <c>exp</c>).</summary>
    public static bool LifetimeValid(DateTime? notBefore, DateTime? expires, DateTimeOffset now, TimeSpan skew, TimeSpan maxLifetime) =>
        expires is { } exp && Check(notBefore, exp, null, now.UtcDateTime, skew, maxLifetime) is null;

    private static TokenFailure? Check(DateTime? notBefore, DateTime expires, DateTime? issuedAt, DateTime now, TimeSpan skew, TimeSpan maxLifetime)
    {
        if (expires < now - skew)
        {
            return TokenFailure.Expired;
        }

        // A token issued in the future is not valid yet either. Without this, a token with no nbf and an iat a year
        // ahead would pass the lifetime rule below (exp - iat short) and be accepted for the whole year.
        if ((notBefore is { } nbf && nbf > now + skew) || (issuedAt is { } iat && iat > now + skew))
        {
            return TokenFailure.NotYetValid;
        }

        var start = notBefore ?? issuedAt ?? now;
        return expires - start > maxLifetime ? TokenFailure.LifetimeTooLong : null;
    }

    /// <summary>The failure an exception from the token library stands for.</summary>
    public static TokenFailure FromException(Exception? exception) => exception switch
    {
        SecurityTokenInvalidIssuerException => TokenFailure.Issuer,
        SecurityTokenInvalidAudienceException => TokenFailure.Audience,
        SecurityTokenNoExpirationException => TokenFailure.NoExpiry,
        SecurityTokenExpiredException => TokenFailure.Expired,
        SecurityTokenNotYetValidException => TokenFailure.NotYetValid,
        SecurityTokenInvalidLifetimeException => TokenFailure.LifetimeTooLong,
        SecurityTokenSignatureKeyNotFoundException => TokenFailure.UnknownKey,
        SecurityTokenInvalidSignatureException => TokenFailure.Signature,
        SecurityTokenInvalidAlgorithmException => TokenFailure.Algorithm,
        SecurityTokenMalformedException => TokenFailure.Malformed,
        _ => TokenFailure.Invalid,
    };

    /// <summary>
    /// Whether <paramref name="jwt"/> is an access token: it names the client it was issued to (a non-empty string
    /// <c>azp</c> or <c>appid</c>) and carries none of an ID token's <c>nonce</c>, <c>at_hash</c> or <c>c_hash</c>.
    /// </summary>
    public static bool IsAccessToken(JsonWebToken jwt)
    {
        ArgumentNullException.ThrowIfNull(jwt);
        static bool Named(JsonWebToken token, string claim) =>
            token.TryGetPayloadValue<object>(claim, out var value) && value is string { Length: > 0 };

        try
        {
            return (Named(jwt, "azp") || Named(jwt, "appid"))
                && !jwt.TryGetPayloadValue<object>("nonce", out _)
                && !jwt.TryGetPayloadValue<object>("at_hash", out _)
                && !jwt.TryGetPayloadValue<object>("c_hash", out _);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// The caller a validated token names: its <c>sub</c>, its app roles (the <c>roles</c> claim), its id and issue time.
    /// <see cref="TokenFailure.NoSubject"/> without a <c>sub</c>; <see cref="TokenFailure.Malformed"/> when a claim cannot
    /// be read: ill-formed UTF-8 inside a claim the library decodes only when the claims are listed, or an <c>iat</c>
    /// beyond the dates a <see cref="DateTimeOffset"/> holds. Only an issuer whose signature verified can send either,
    /// but a refusal is still the answer, never an exception.
    /// </summary>
    public static TokenFailure? Caller(JsonWebToken jwt, out CallerIdentity? caller)
    {
        caller = null;
        try
        {
            if (string.IsNullOrEmpty(jwt.Subject))
            {
                return TokenFailure.NoSubject;
            }

            var roles = jwt.Claims.Where(c => c.Type == "roles").Select(c => c.Value).Distinct(StringComparer.Ordinal).ToArray();
            var tokenId = jwt.Id is { Length: > 0 } jti ? jti : jwt.TryGetPayloadValue<string>("uti", out var uti) ? uti : null;
            DateTimeOffset? issuedAt = null;
            if (jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Iat, out var iat))
            {
                if (iat < MinUnixSeconds || iat > MaxUnixSeconds)
                {
                    return TokenFailure.Malformed;
                }

                issuedAt = DateTimeOffset.FromUnixTimeSeconds(iat);
            }

            caller = new CallerIdentity(jwt.Subject, roles) { TokenId = tokenId, IssuedAt = issuedAt };
            return null;
        }
        catch (InvalidOperationException)
        {
            return TokenFailure.Malformed;
        }
    }
}
