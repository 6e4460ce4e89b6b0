using System.ComponentModel.DataAnnotations;
using ServerlessServe.Core.Identity;

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

    /// <summary>
    /// Audiences of the deployment's other apps: on the gateway the admin app's, on the admin app the gateway's. Tokens
    /// for them are genuine tokens of this tenant, so they authenticate and the request is audited, but every route
    /// refuses them with 403 (the issue's "an admin route with a data-plane token → 403; /infer with an admin token →
    /// 403"). Default empty: they get the 401 of any wrong audience. Must not repeat an entry of <c>Audiences</c>.
    /// </summary>
    public List<string> SiblingAudiences { get; set; } = [];

    protected override string Section => SectionName;

    public override OidcValidationPolicy ToPolicy() => base.ToPolicy() with { SiblingAudiences = SiblingAudiences };

    /// <inheritdoc />
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        for (var i = 0; i < SiblingAudiences.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(SiblingAudiences[i]) || Audiences.Contains(SiblingAudiences[i], StringComparer.Ordinal))
            {
                yield return new ValidationResult($"{SectionName}:SiblingAudiences:{i} is empty or one of the Audiences.", [nameof(SiblingAudiences)]);
            }
        }
    }
}
