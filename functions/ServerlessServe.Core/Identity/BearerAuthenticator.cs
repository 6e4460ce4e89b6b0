namespace ServerlessServe.Core.Identity;

/// <summary>
/// Authenticates a request from the bearer token in its <c>Authorization</c> header against one
/// <see cref="IBearerTokenValidator"/>. Each audience has its own sealed subclass, so the DI container and the services
/// that take one cannot mix a caller validator up with a service-token validator.
/// </summary>
public abstract class BearerAuthenticator
{
    private readonly IBearerTokenValidator _validator;

    protected BearerAuthenticator(IBearerTokenValidator validator)
    {
        ArgumentNullException.ThrowIfNull(validator);
        _validator = validator;
    }

    /// <summary>Which tokens this authenticator takes (<c>caller</c>, <c>service</c>), for logs and metrics.</summary>
    public abstract string Name { get; }

    /// <summary>The identity in the valid bearer token of an <c>Authorization</c> header value, or why there is none.</summary>
    public Task<TokenVerdict> AuthenticateAsync(string? authorizationHeader, CancellationToken cancellationToken = default) =>
        _validator.ValidateAsync(BearerToken(authorizationHeader), cancellationToken);

    /// <summary>Extracts the token from an <c>Authorization: Bearer …</c> header value, or null.</summary>
    public static string? BearerToken(string? authorizationHeader)
    {
        const string Prefix = "Bearer ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = authorizationHeader[Prefix.Length..].Trim();
        return token.Length == 0 ? null : token;
    }
}
