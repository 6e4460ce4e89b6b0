using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Turns a raw caller id (token subject, client id) into a stable pseudonym for audit and telemetry:
/// the first 32 lowercase hex characters (128 bits) of HMAC-SHA256(key, "serverlessserve.caller.v1\0" + UTF-8 id).
/// The same key and caller always give the same pseudonym; without the key a pseudonym cannot be linked to a caller.
/// The key is held privately and never logged or exposed (<see cref="ToString"/> does not show it).
/// </summary>
/// <remarks>
/// A request's stages each need its caller's pseudonym (misses, contain, limit, screen, extract, budget, audit), and one
/// HMAC costs about 1.7 μs, so the pseudonyms of the last <see cref="RememberedCallers"/> callers are kept in memory
/// (the same value the key gives anyway); past that many the memory is emptied and refills with the callers active now.
/// </remarks>
public sealed class CallerPseudonymizer
{
    /// <summary>Smallest accepted key, in bytes.</summary>
    public const int MinKeyBytes = 32;

    /// <summary>The pseudonym used when there is no caller identity.</summary>
    public const string Anonymous = "anonymous";

    private static readonly byte[] Domain = Encoding.ASCII.GetBytes("serverlessserve.caller.v1\0");

    /// <summary>How many callers' pseudonyms are remembered before the memory is emptied.</summary>
    public const int RememberedCallers = 16_384;

    private readonly byte[] _key;
    private readonly ConcurrentDictionary<string, string> _remembered = new(StringComparer.Ordinal);
    private int _rememberedCount;

    public CallerPseudonymizer(ReadOnlySpan<byte> key)
    {
        if (key.Length < MinKeyBytes)
        {
            throw new ArgumentException($"The pseudonymization key must be at least {MinKeyBytes} bytes.", nameof(key));
        }

        _key = key.ToArray();
    }

    /// <summary>The pseudonym of <paramref name="callerId"/>, or <see cref="Anonymous"/> when it is null or empty.</summary>
    public string Pseudonymize(string? callerId)
    {
        if (string.IsNullOrEmpty(callerId))
        {
            return Anonymous;
        }

        if (_remembered.TryGetValue(callerId, out var known))
        {
            return known;
        }

        var pseudonym = Compute(callerId);
        if (Interlocked.Increment(ref _rememberedCount) > RememberedCallers)
        {
            _remembered.Clear();
            Interlocked.Exchange(ref _rememberedCount, 1);
        }

        _remembered[callerId] = pseudonym;
        return pseudonym;
    }

    private string Compute(string callerId)
    {
        var id = Encoding.UTF8.GetBytes(callerId);
        var message = new byte[Domain.Length + id.Length];
        Domain.CopyTo(message, 0);
        id.CopyTo(message, Domain.Length);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, message, mac);
        return Convert.ToHexStringLower(mac[..16]);
    }

    public override string ToString() => nameof(CallerPseudonymizer);
}
