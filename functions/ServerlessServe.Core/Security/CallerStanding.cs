namespace ServerlessServe.Core.Security;

/// <summary>What the containment in force says about one caller.</summary>
/// <param name="Blocked">The caller is refused.</param>
/// <param name="RequestsPerMinute">The caller is throttled to this rate (per instance); null when not throttled.</param>
/// <param name="RevokedBefore">Tokens issued to the caller at or before this time are revoked; null when none are.</param>
public readonly record struct CallerStanding(bool Blocked, int? RequestsPerMinute, DateTimeOffset? RevokedBefore = null)
{
    /// <summary>Nothing in force.</summary>
    public static CallerStanding Clear => default;

    /// <summary>
    /// True when a token issued at <paramref name="issuedAt"/> is revoked: issued at or before the caller's revocation
    /// (a token without <c>iat</c> counts as issued before it).
    /// </summary>
    public bool IsRevoked(DateTimeOffset? issuedAt) => RevokedBefore is { } before && (issuedAt is not { } issued || issued <= before);
}
