using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// How the gateway authenticates callers (section <c>ServerlessServe:Identity</c>): bearer tokens from one OpenID
/// Connect issuer (Entra ID in Azure, the local issuer standalone) for the gateway's audience. Closed by default:
/// without an authority and an audience the gateway does not start. See docs/identity.md.
/// </summary>
public sealed class CallerAuthOptions : OidcIssuerOptions
{
    public const string SectionName = "ServerlessServe:Identity";

    /// <summary>
    /// How often the refused tokens counted since the last summary are written to the audit trail as one
    /// <c>auth-refusals</c> security record (none when nothing was refused). Default 1 minute; 1 second to 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RefusalSummaryInterval { get; set; } = TimeSpan.FromMinutes(1);

    protected override string Section => SectionName;
}
