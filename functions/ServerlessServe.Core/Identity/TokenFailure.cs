namespace ServerlessServe.Core.Identity;

/// <summary>
/// Why a bearer token was refused. For logs and metrics only: every one of these reaches the caller as the same 401
/// with the same body, so a caller probing the validator learns nothing about which check failed.
/// </summary>
public enum TokenFailure
{
    /// <summary>No bearer token in the request.</summary>
    Missing,

    /// <summary>Longer than the configured limit; not parsed at all.</summary>
    TooLarge,

    /// <summary>Not a signed compact JWT (wrong shape, bad base64url or JSON, or an encrypted token).</summary>
    Malformed,

    /// <summary>An algorithm outside the allowed set (<c>none</c>, HS256, …).</summary>
    Algorithm,

    /// <summary>A header that names or carries a key (<c>jku</c>, <c>x5u</c>, <c>jwk</c>, <c>x5c</c>): keys come from the issuer's metadata only.</summary>
    KeyLocationHeader,

    /// <summary>No <c>kid</c> header.</summary>
    MissingKeyId,

    /// <summary>A <c>kid</c> the issuer's key set does not hold, after any refresh that was allowed.</summary>
    UnknownKey,

    /// <summary>The signature does not verify.</summary>
    Signature,

    /// <summary>An <c>iss</c> other than the accepted issuer(s).</summary>
    Issuer,

    /// <summary>No accepted <c>aud</c>.</summary>
    Audience,

    /// <summary>No <c>exp</c>.</summary>
    NoExpiry,

    /// <summary>Expired by more than the clock skew.</summary>
    Expired,

    /// <summary><c>nbf</c> later than now plus the clock skew.</summary>
    NotYetValid,

    /// <summary>A lifetime (<c>exp</c> less <c>nbf</c> or <c>iat</c>) above the maximum.</summary>
    LifetimeTooLong,

    /// <summary>No <c>sub</c>.</summary>
    NoSubject,

    /// <summary>
    /// A valid token, but from an identity the validator is not pinned to: none of its <c>azp</c>, <c>appid</c> or
    /// <c>oid</c> is among the allowed identities (on the inference app, anyone but the gateway).
    /// </summary>
    CallerNotAllowed,

    /// <summary>
    /// A valid token that is not an access token: it names no <c>azp</c> or <c>appid</c>, or it carries an ID token's
    /// <c>nonce</c>, <c>at_hash</c> or <c>c_hash</c> (<see cref="OidcValidationPolicy.RequireAccessToken"/>).
    /// </summary>
    NotAccessToken,

    /// <summary>The issuer's metadata or key set could not be read (not the caller's fault: answered 503, not 401).</summary>
    MetadataUnavailable,

    /// <summary>A valid token that was revoked: by its id, or as one issued to its subject before a revocation.</summary>
    Revoked,

    /// <summary>Refused by the token library for a reason none of the above names.</summary>
    Invalid,
}
