namespace ServerlessServe.Core.Identity;

/// <summary>The token lifetimes the validators accept by default, and how long a revocation is kept by default.</summary>
public static class TokenLifetimes
{
    /// <summary>
    /// The longest lifetime (<c>exp</c> − <c>nbf</c>, else <c>iat</c>) accepted by default: 25 hours. Entra ID issues
    /// managed-identity access tokens valid for 24 hours and backdates their <c>nbf</c> and <c>iat</c> by 5 minutes, so
    /// such a token spans 24 h 5 min; a 24-hour limit refused every one of them (found in review 2026-12-07).
    /// </summary>
    public static readonly TimeSpan DefaultMax = TimeSpan.FromHours(25);

    /// <summary>
    /// How long a revocation is kept when no duration is given for a validator accepting <paramref name="maxLifetime"/>:
    /// that lifetime plus twice the largest clock skew, since a token may start up to the skew ahead and is accepted up
    /// to the skew past its <c>exp</c>. Any token the revocation names has expired everywhere by then.
    /// </summary>
    public static TimeSpan RevocationFor(TimeSpan maxLifetime) => maxLifetime + (2 * OidcValidationPolicy.MaxClockSkew);
}
