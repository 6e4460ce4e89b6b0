using Microsoft.IdentityModel.Tokens;

namespace ServerlessServe.Core.Identity;

/// <summary>What <see cref="OidcTokenValidator"/> accepts beyond a signature by a key in the issuer's key set.</summary>
public sealed record OidcValidationPolicy
{
    /// <summary>The algorithms a caller token may use: RS256 (Entra ID) and ES256 (the local issuer). Nothing else can be enabled.</summary>
    public static IReadOnlyList<string> SupportedAlgorithms { get; } = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    /// <summary>The largest clock skew allowed.</summary>
    public static TimeSpan MaxClockSkew { get; } = TimeSpan.FromSeconds(60);

    /// <summary>Accepted <c>aud</c> values (an Entra ID app's client id and/or its <c>api://</c> URI). At least one.</summary>
    public required IReadOnlyList<string> Audiences { get; init; }

    /// <summary>
    /// Audiences of the deployment's other apps (on the gateway, the admin app's; on the admin app, the gateway's). A token
    /// for one of them and none of <see cref="Audiences"/> is accepted as a genuine token of this deployment but marked
    /// <see cref="CallerIdentity.SiblingAudience"/>, and every route refuses it with 403 (and audits the refusal), rather
    /// than the 401 of an unknown token. Default empty: such tokens get 401 like any other audience.
    /// </summary>
    public IReadOnlyList<string> SiblingAudiences { get; init; } = [];

    /// <summary>
    /// The identities a token must come from: its <c>azp</c> (v2 tokens), <c>appid</c> (v1 tokens) or <c>oid</c> must be
    /// one of these (a managed identity's client id or object id). Empty (the default) pins nothing: any subject of the
    /// issuer with an accepted audience is accepted, as for callers.
    /// </summary>
    public IReadOnlyList<string> AllowedIdentities { get; init; } = [];

    /// <summary>
    /// Whether a token must be an access token: name the client it was issued to (<c>azp</c>, v2; <c>appid</c>, v1) and
    /// carry none of an ID token's <c>nonce</c>, <c>at_hash</c> or <c>c_hash</c>. Default true. Entra ID signs a user's
    /// ID token with the same keys, issuer and <c>aud</c> (the app's client id) as its access tokens, and with the same
    /// <c>roles</c>; ID tokens name no <c>azp</c> or <c>appid</c>, and every Entra ID access token names one. False only
    /// for an issuer whose access tokens name neither (logged as a warning at start, event 2005).
    /// </summary>
    public bool RequireAccessToken { get; init; } = true;

    /// <summary>Accepted <c>iss</c> values; empty (the default) accepts exactly the issuer the metadata names.</summary>
    public IReadOnlyList<string> Issuers { get; init; } = [];

    /// <summary>Accepted algorithms, a subset of <see cref="SupportedAlgorithms"/>. Default both.</summary>
    public IReadOnlyList<string> Algorithms { get; init; } = SupportedAlgorithms;

    /// <summary>Allowed difference between the issuer's clock and ours. Default 30 seconds, at most <see cref="MaxClockSkew"/>.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest lifetime (<c>exp</c> less <c>nbf</c>, else <c>iat</c>) accepted. Default 25 hours (<see cref="TokenLifetimes.DefaultMax"/>).</summary>
    public TimeSpan MaxLifetime { get; init; } = TokenLifetimes.DefaultMax;

    /// <summary>Longest token accepted, in characters; a longer one is refused unparsed. Default 16 KiB.</summary>
    public int MaxTokenLength { get; init; } = 16 * 1024;

    /// <summary>
    /// At most one metadata refresh per this interval is triggered by tokens with an unknown <c>kid</c>; others in
    /// between are refused without one. Default 5 minutes.
    /// </summary>
    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the request that triggered a refresh waits for it before being refused. Default 10 seconds.</summary>
    public TimeSpan RefreshWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws when the policy is not one the validator can enforce.</summary>
    public void Validate()
    {
        if (Audiences is null || Audiences.Count == 0 || Audiences.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("At least one non-empty audience is required.", nameof(Audiences));
        }

        if (SiblingAudiences is null || SiblingAudiences.Any(string.IsNullOrWhiteSpace) || SiblingAudiences.Any(a => Audiences.Contains(a, StringComparer.Ordinal)))
        {
            throw new ArgumentException("Sibling audiences must be non-empty and distinct from the accepted audiences.", nameof(SiblingAudiences));
        }

        if (AllowedIdentities is null || AllowedIdentities.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Allowed identities must not be empty strings.", nameof(AllowedIdentities));
        }

        if (Algorithms is null || Algorithms.Count == 0 || Algorithms.Any(a => !SupportedAlgorithms.Contains(a, StringComparer.Ordinal)))
        {
            throw new ArgumentException("Algorithms must be a non-empty subset of RS256 and ES256.", nameof(Algorithms));
        }

        if (ClockSkew < TimeSpan.Zero || ClockSkew > MaxClockSkew)
        {
            throw new ArgumentOutOfRangeException(nameof(ClockSkew), "The clock skew must be between 0 and 60 seconds.");
        }

        if (MaxLifetime <= TimeSpan.Zero || MaxTokenLength <= 0 || RefreshInterval <= TimeSpan.Zero || RefreshWait < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxLifetime), "Lifetimes, lengths and intervals must be positive.");
        }
    }
}
