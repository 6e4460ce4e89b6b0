namespace ServerlessServe.Core.Identity;

/// <summary>Authenticates the caller of a gateway request from its bearer token (the caller issuer's keys); null means unauthenticated.</summary>
public sealed class CallerAuthenticator(TokenValidator validator) : BearerAuthenticator(validator);
