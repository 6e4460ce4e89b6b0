using System.Security.Cryptography;

namespace ServerlessServe.Core.Artifacts;

/// <summary>Key ids: lowercase hex of the first 16 bytes of SHA-256 over the key's DER SubjectPublicKeyInfo.</summary>
public static class KeyIds
{
    /// <summary>The key id of <paramref name="key"/> (public part only is used).</summary>
    public static string Compute(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Compute(key.ExportSubjectPublicKeyInfo());
    }

    /// <summary>The key id of a DER-encoded SubjectPublicKeyInfo.</summary>
    public static string Compute(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(subjectPublicKeyInfo, hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>True for 32 lowercase hex digits.</summary>
    public static bool IsWellFormed(string? keyId) =>
        keyId is { Length: 32 } && keyId.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
