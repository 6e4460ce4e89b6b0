namespace ServerlessServe.Core.Identity;

/// <summary>
/// Supplies the gateway's short-lived token for calls to the inference app. Tokens are reused until a fifth of their
/// lifetime is left, so signing is not on every request's path. Thread-safe: the current token and its renewal time
/// are one immutable value swapped atomically, and once renewal is due exactly one caller signs the new token while the
/// others wait for it (a signature takes about 0.2 ms).
/// </summary>
public sealed class ServiceTokenSource
{
    private readonly TokenIssuer _issuer;
    private readonly string _audience;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    private readonly Lock _renewal = new();
    private volatile CachedToken? _current;

    public ServiceTokenSource(TokenIssuer issuer, string audience, TimeSpan lifetime, TimeProvider time)
    {
        _issuer = issuer ?? throw new ArgumentNullException(nameof(issuer));
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        _audience = audience;
        _lifetime = lifetime;
        _time = time ?? throw new ArgumentNullException(nameof(time));
    }

    public string GetToken()
    {
        var current = _current;
        var now = _time.GetUtcNow();
        if (current is not null && now < current.RenewAt)
        {
            return current.Token;
        }

        lock (_renewal)
        {
            current = _current;
            now = _time.GetUtcNow();
            if (current is not null && now < current.RenewAt)
            {
                return current.Token;
            }

            var renewed = new CachedToken(_issuer.Mint(_issuer.Issuer, _audience, _lifetime, ["service"]), now + (_lifetime * 0.8));
            _current = renewed;
            return renewed.Token;
        }
    }

    private sealed record CachedToken(string Token, DateTimeOffset RenewAt);
}
