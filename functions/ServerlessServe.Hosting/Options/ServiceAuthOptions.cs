using System.ComponentModel.DataAnnotations;
using ServerlessServe.Core.Identity;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// How the inference app authenticates the gateway (section <c>ServerlessServe:ServiceAuth</c>): tokens from the same
/// kind of OpenID Connect issuer as callers' (the Entra ID tenant in Azure, the local issuer standalone), for the
/// inference app's own audience, and only from the gateway's identity. Closed by default: without an authority, an
/// audience and at least one allowed identity the inference app does not start. See docs/identity.md, "Services".
/// </summary>
internal sealed class ServiceAuthOptions : OidcIssuerOptions
{
    public const string SectionName = "ServerlessServe:ServiceAuth";

    /// <summary>
    /// The identities whose tokens are accepted: a token's <c>azp</c> (v2), <c>appid</c> (v1) or <c>oid</c> must be one
    /// of these — in Azure the gateway's managed identity, by client id and/or object (principal) id. At least one; no
    /// default.
    /// </summary>
    [MinLength(1)]
    public List<string> AllowedIdentities { get; set; } = [];

    protected override string Section => SectionName;

    /// <inheritdoc />
    public override OidcValidationPolicy ToPolicy() => base.ToPolicy() with { AllowedIdentities = AllowedIdentities };

    /// <inheritdoc />
    public override IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in base.Validate(validationContext))
        {
            yield return result;
        }

        for (var i = 0; i < AllowedIdentities.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(AllowedIdentities[i]))
            {
                yield return new ValidationResult($"{SectionName}:AllowedIdentities:{i} is empty.", [nameof(AllowedIdentities)]);
            }
        }
    }
}
