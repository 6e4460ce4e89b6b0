namespace ServerlessServe.Core.Identity;

/// <summary>Authenticates the gateway's service token on the inference app (the service-token keys); null means unauthenticated.</summary>
public sealed class ServiceAuthenticator(TokenValidator validator) : BearerAuthenticator(validator);
