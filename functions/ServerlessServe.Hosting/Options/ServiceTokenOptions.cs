using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// The gateway's tokens for the inference app (section <c>ServerlessServe:ServiceToken</c>): from its managed identity
/// (in Azure the platform's endpoint, standalone the local issuer's, both reached by Azure.Identity's
/// <c>ManagedIdentityCredential</c> through <c>IDENTITY_ENDPOINT</c> / <c>IDENTITY_HEADER</c>), cached and refreshed
/// early. Closed by default: without a resource the gateway does not start. See docs/identity.md, "Services".
/// </summary>
internal sealed class ServiceTokenOptions
{
    public const string SectionName = "ServerlessServe:ServiceToken";

    /// <summary>
    /// The inference app's resource: its app registration's application id URI (e.g.
    /// <c>api://serverlessserve-inference</c>), asked for as scope <c>{Resource}/.default</c>; tokens carry it (or the
    /// registration's client id, for v2 tokens) as <c>aud</c>. Required; no default.
    /// </summary>
    [Required]
    public string? Resource { get; set; }

    /// <summary>
    /// The client id of the user-assigned managed identity to use. Default: the <c>AZURE_CLIENT_ID</c> setting when
    /// present (as the Bicep sets it), else the app's system-assigned identity.
    /// </summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// A token is refreshed once a fifth of its lifetime is left or when it is this close to expiry, whichever comes
    /// first (at most at half its lifetime). Default 5 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Least time between two background refresh attempts after one failed. Default 10 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest one token request may take (the credential's own retries included). Default 15 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:02:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The scope asked for: the resource's <c>.default</c> scope.</summary>
    public string Scope => Resource!.TrimEnd('/') + "/.default";
}
