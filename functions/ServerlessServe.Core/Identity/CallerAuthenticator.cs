namespace ServerlessServe.Core.Identity;

/// <summary>Authenticates the caller of a gateway request from its bearer token (the caller issuer's OIDC metadata).</summary>
public sealed class CallerAuthenticator(IBearerTokenValidator validator) : BearerAuthenticator(validator)
{
    public override string Name => "caller";
}
