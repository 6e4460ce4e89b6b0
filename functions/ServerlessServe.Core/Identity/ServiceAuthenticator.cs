namespace ServerlessServe.Core.Identity;

/// <summary>
/// Authenticates the gateway on the inference app: a token of the services' issuer for the inference app's own
/// audience, from the gateway's pinned identity (<see cref="OidcValidationPolicy.AllowedIdentities"/>).
/// </summary>
public sealed class ServiceAuthenticator(IBearerTokenValidator validator) : BearerAuthenticator(validator)
{
    public override string Name => "service";
}
