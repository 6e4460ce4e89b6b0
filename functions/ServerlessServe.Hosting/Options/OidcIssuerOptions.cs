using System.ComponentModel.DataAnnotations;
using ServerlessServe.Core.Identity;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// Bearer tokens from one OpenID Connect issuer, checked against its discovery document and key set: the settings
/// common to the gateway's callers (<see cref="CallerAuthOptions"/>) and the inference app's one caller, the gateway
/// (<see cref="ServiceAuthOptions"/>). Closed by default: without an authority and an audience the app does not start.
/// See docs/identity.md.
/// </summary>
public abstract class OidcIssuerOptions : IValidatableObject
{
    /// <summary>The configuration section these options are bound from, named in validation messages.</summary>
    protected abstract string Section { get; }

    /// <summary>
    /// The issuer's URL: Entra ID v2 <c>https://login.microsoftonline.com/{tenant-id}/v2.0</c>; <c>ssctl up</c>'s
    /// local issuer <c>http://127.0.0.1:7073</c>. Its host is added to the egress allow-list. No default.
    /// </summary>
    [Required]
    public Uri? Authority { get; set; }

    /// <summary>The discovery document. Default <c>{Authority}/.well-known/openid-configuration</c>; its host is allowed too.</summary>
    public Uri? MetadataAddress { get; set; }

    /// <summary>Accepted <c>aud</c> values: the app's client id and/or its <c>api://</c> URI. At least one; no default.</summary>
    [MinLength(1)]
    public List<string> Audiences { get; set; } = [];

    /// <summary>Accepted <c>iss</c> values. Default empty: exactly the issuer the discovery document names.</summary>
    public List<string> Issuers { get; set; } = [];

    /// <summary>
    /// Whether a token must be an access token (<see cref="OidcValidationPolicy.RequireAccessToken"/>): it names its client
    /// (<c>azp</c> or <c>appid</c>) and carries no ID-token claim. Default true; false (for an issuer whose access tokens
    /// name no client) is logged as a warning at start.
    /// </summary>
    public bool RequireAccessToken { get; set; } = true;

    /// <summary>Accepted algorithms, from RS256 and ES256 only. Default empty: both.</summary>
    public List<string> Algorithms { get; set; } = [];

    /// <summary>
    /// Longest token lifetime accepted. Default 25 hours (<see cref="TokenLifetimes.DefaultMax"/>: Entra ID's
    /// managed-identity tokens span 24 h 5 min).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan MaxTokenLifetime { get; set; } = TokenLifetimes.DefaultMax;

    /// <summary>Allowed clock difference from the issuer. Default 30 seconds, at most 60.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest token accepted, in characters. Default 16384 (Entra ID tokens are a few KB). At most 32768: both hosts'
    /// HTTP servers refuse request headers beyond 32 KiB before the app sees them.
    /// </summary>
    [Range(1024, 32768)]
    public int MaxTokenLength { get; set; } = 16 * 1024;

    /// <summary>Fetch the metadata and keys over HTTPS only. Default true; false is accepted for a loopback issuer only, and logged.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>
    /// How often the metadata and keys are fetched again in any case, which bounds how long a key the issuer withdrew
    /// (a leaked one) still verifies new tokens. Default 1 hour (12 hours before 2026-12-07, found in review); at least
    /// 5 minutes (the library's minimum).
    /// </summary>
    [Range(typeof(TimeSpan), "00:05:00", "7.00:00:00")]
    public TimeSpan AutomaticRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// At most one refresh per this interval is triggered by tokens naming an unknown <c>kid</c>; the others are refused
    /// without one. Default 5 minutes; at least 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Timeout of one metadata or key-set request. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00")]
    public TimeSpan MetadataTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The discovery document's address: <see cref="MetadataAddress"/>, else derived from <see cref="Authority"/>.</summary>
    public Uri? ResolvedMetadataAddress =>
        MetadataAddress ?? (Authority is { IsAbsoluteUri: true } authority
            ? new Uri(authority.AbsoluteUri.TrimEnd('/') + "/.well-known/openid-configuration")
            : null);

    /// <summary>What the validator enforces.</summary>
    public virtual OidcValidationPolicy ToPolicy() => new()
    {
        Audiences = Audiences,
        Issuers = Issuers,
        RequireAccessToken = RequireAccessToken,
        Algorithms = Algorithms.Count == 0 ? OidcValidationPolicy.SupportedAlgorithms : Algorithms,
        ClockSkew = ClockSkew,
        MaxLifetime = MaxTokenLifetime,
        MaxTokenLength = MaxTokenLength,
        RefreshInterval = RefreshInterval,
        RefreshWait = MetadataTimeout,
    };

    /// <inheritdoc />
    public virtual IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Authority is not null && !IsHttp(Authority))
        {
            yield return new ValidationResult($"{Section}:Authority must be an absolute http(s) URL.", [nameof(Authority)]);
        }

        if (MetadataAddress is not null && !IsHttp(MetadataAddress))
        {
            yield return new ValidationResult($"{Section}:MetadataAddress must be an absolute http(s) URL.", [nameof(MetadataAddress)]);
        }

        if (ResolvedMetadataAddress is { } metadata && IsHttp(metadata))
        {
            if (RequireHttpsMetadata && metadata.Scheme != Uri.UriSchemeHttps)
            {
                yield return new ValidationResult(
                    $"{Section}: the metadata address must use https (RequireHttpsMetadata=false is accepted for a loopback issuer only).", [nameof(RequireHttpsMetadata)]);
            }

            if (!RequireHttpsMetadata && !metadata.IsLoopback)
            {
                yield return new ValidationResult($"{Section}:RequireHttpsMetadata may be false only for a loopback issuer.", [nameof(RequireHttpsMetadata)]);
            }
        }

        for (var i = 0; i < Audiences.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(Audiences[i]))
            {
                yield return new ValidationResult($"{Section}:Audiences:{i} is empty.", [nameof(Audiences)]);
            }
            else if (Audiences[i].EndsWith('/'))
            {
                // Audiences are compared exactly (a token for "api://x/" is not one for "api://x"), and the gateway asks for
                // its service token without the slash: a configured slash would refuse every such token.
                yield return new ValidationResult($"{Section}:Audiences:{i} must not end with '/' (audiences are compared exactly; write it as tokens name it).", [nameof(Audiences)]);
            }
        }

        foreach (var algorithm in Algorithms.Where(a => !OidcValidationPolicy.SupportedAlgorithms.Contains(a, StringComparer.Ordinal)))
        {
            yield return new ValidationResult($"{Section}:Algorithms may name only RS256 and ES256, not '{algorithm}'.", [nameof(Algorithms)]);
        }
    }

    private static bool IsHttp(Uri uri) => uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
