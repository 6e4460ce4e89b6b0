using Microsoft.AspNetCore.Http;

namespace ServerlessServe.Core.Identity;

/// <summary>Authenticates the caller of a request from its bearer token; null means 401.</summary>
public sealed class CallerAuthenticator
{
    private readonly TokenValidator _validator;

    public CallerAuthenticator(TokenValidator validator)
    {
        _validator = validator;
    }

    public Task<CallerIdentity?> AuthenticateAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _validator.ValidateAsync(TokenValidator.BearerToken(request.Headers.Authorization.ToString()));
    }
}
