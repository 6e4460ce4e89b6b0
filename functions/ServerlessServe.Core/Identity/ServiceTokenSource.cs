namespace ServerlessServe.Core.Identity;

/// <summary>
/// Supplies the gateway's short-lived token for calls to the inference app. Tokens are reused until a fifth of their
/// lifetime is left, so signing is not on every request's path.
/// </summary>
public sealed class ServiceTokenSource
{
    private readonly TokenIssuer _issuer;
    private readonly string _audience;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private (string Token, DateTimeOffset RenewAt)? _current;

    public ServiceTokenSource(TokenIssuer issuer, string audience, TimeSpan lifetime, TimeProvider time)
    {
        _issuer = issuer;
        _audience = audience;
        _lifetime = lifetime;
        _time = time;
    }

    public string GetToken()
    {
        var now = _time.GetUtcNow();
        var current = _current;
        if (current is { } c && now < c.RenewAt)
        {
            return c.Token;
        }

        var token = _issuer.Mint(_issuer.Issuer, _audience, _lifetime, ["service"]);
        _current = (token, now + (_lifetime * 0.8));
        return token;
    }
}
