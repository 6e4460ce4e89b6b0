using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Identity;

/// <summary>
/// Tokens whose signature and claims already verified, keyed by the token's SHA-256, each remembered until its own
/// expiry (plus the clock skew it was accepted with). A signature check costs ~0.2 ms; a hit costs a hash. Only
/// successes are remembered; when full the cache is emptied rather than evicting one by one.
/// </summary>
internal sealed class VerifiedTokenCache(TimeProvider time)
{
    /// <summary>Most verified tokens remembered at once.</summary>
    public const int Capacity = 10_000;

    private readonly ConcurrentDictionary<string, (CallerIdentity Caller, DateTimeOffset Expires)> _verified = new(StringComparer.Ordinal);

    public bool TryGet(string token, out CallerIdentity? caller)
    {
        var key = Key(token);
        if (_verified.TryGetValue(key, out var hit))
        {
            if (time.GetUtcNow() <= hit.Expires)
            {
                caller = hit.Caller;
                return true;
            }

            _verified.TryRemove(key, out _);
        }

        caller = null;
        return false;
    }

    public void Add(string token, CallerIdentity caller, DateTimeOffset expires)
    {
        if (_verified.Count >= Capacity)
        {
            _verified.Clear();
        }

        _verified[Key(token)] = (caller, expires);
    }

    private static string Key(string token) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
