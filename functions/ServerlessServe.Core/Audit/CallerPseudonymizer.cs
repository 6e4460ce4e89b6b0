using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Turns a raw caller id (token subject, client id) into a stable pseudonym for audit and telemetry:
/// the first 32 lowercase hex characters (128 bits) of HMAC-SHA256(key, "serverlessserve.caller.v1\0" + UTF-8 id).
/// The same key and caller always give the same pseudonym; without the key a pseudonym cannot be linked to a caller.
/// The key is held privately and never logged or exposed (<see cref="ToString"/> does not show it).
/// </summary>
public sealed class CallerPseudonymizer
{
    /// <summary>Smallest accepted key, in bytes.</summary>
    public const int MinKeyBytes = 32;

    /// <summary>The pseudonym used when there is no caller identity.</summary>
    public const string Anonymous = "anonymous";

    private static readonly byte[] Domain = Encoding.ASCII.GetBytes("serverlessserve.caller.v1\0");

    private readonly byte[] _key;

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
