namespace ServerlessServe.Core.Identity;

/// <summary>Authenticates the gateway's service token on the inference app (the service-token keys).</summary>
public sealed class ServiceAuthenticator(IBearerTokenValidator validator) : BearerAuthenticator(validator)
{
    public override string Name => "service";
}
