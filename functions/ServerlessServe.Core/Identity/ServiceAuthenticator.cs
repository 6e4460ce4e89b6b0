using Microsoft.AspNetCore.Http;

namespace ServerlessServe.Core.Identity;

/// <summary>Authenticates the gateway's service token on the inference app; null means 401.</summary>
public sealed class ServiceAuthenticator
{
    private readonly TokenValidator _validator;

    public ServiceAuthenticator(TokenValidator validator)
    {
        _validator = validator;
    }

    public Task<CallerIdentity?> AuthenticateAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _validator.ValidateAsync(TokenValidator.BearerToken(request.Headers.Authorization.ToString()));
    }
}
