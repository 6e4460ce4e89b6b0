namespace ServerlessServe.Core.Identity;

/// <summary>
/// Authenticates a request from the bearer token in its <c>Authorization</c> header against one
/// <see cref="TokenValidator"/>; null means unauthenticated. Each audience has its own sealed subclass, so the DI container and the
/// services that take one cannot mix a caller validator up with a service-token validator.
/// </summary>
public abstract class BearerAuthenticator
{
    private readonly TokenValidator _validator;

    protected BearerAuthenticator(TokenValidator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        _validator = validator;
    }

    /// <summary>
    /// The identity in the valid bearer token of an <c>Authorization</c> header value, or null when it has none or it
    /// does not validate.
    /// </summary>
    public Task<CallerIdentity?> AuthenticateAsync(string? authorizationHeader) =>
        _validator.ValidateAsync(TokenValidator.BearerToken(authorizationHeader));
}
