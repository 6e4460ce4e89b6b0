namespace ServerlessServe.Hosting.Options;

/// <summary>
/// How the gateway authenticates callers (section <c>ServerlessServe:Identity</c>): bearer tokens from one OpenID
/// Connect issuer (Entra ID in Azure, the local issuer standalone) for the gateway's audience. Closed by default:
/// without an authority and an audience the gateway does not start. See docs/identity.md.
/// </summary>
public sealed class CallerAuthOptions : OidcIssuerOptions
{
    public const string SectionName = "ServerlessServe:Identity";

    protected override string Section => SectionName;
}
