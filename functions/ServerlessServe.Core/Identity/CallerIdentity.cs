namespace ServerlessServe.Core.Identity;

/// <summary>An authenticated principal: the token subject and the roles it carries. The subject is never logged raw.</summary>
public sealed record CallerIdentity(string Subject, IReadOnlyList<string> Roles)
{
    /// <summary>The token's id (<c>jti</c>, or Entra ID's <c>uti</c>), for token revocation; null when it has none.</summary>
    public string? TokenId { get; init; }

    /// <summary>The token's <c>iat</c>, for revoking a caller's tokens issued up to a time; null when it has none.</summary>
    public DateTimeOffset? IssuedAt { get; init; }

    /// <summary>
    /// True for a genuine token of this deployment issued for another of its apps (an admin token at the gateway, a
    /// data-plane token at the admin app): the caller is known, and refused (403) on every route.
    /// </summary>
    public bool SiblingAudience { get; init; }
}
