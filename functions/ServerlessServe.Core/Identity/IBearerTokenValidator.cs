namespace ServerlessServe.Core.Identity;

/// <summary>Validates a raw bearer token (no <c>Bearer </c> prefix). Thread-safe; one instance per trusted issuer.</summary>
public interface IBearerTokenValidator
{
    Task<TokenVerdict> ValidateAsync(string? token, CancellationToken cancellationToken = default);
}
