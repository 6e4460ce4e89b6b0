using System.Buffers;
using System.Security.Cryptography;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// The <c>Content-Digest</c> header of RFC 9530: a dictionary of algorithm → byte sequence over the body as sent. The
/// gateway requires <c>sha-256</c>; a <c>sha-512</c> member, when present, must match as well; members with algorithms it
/// does not know are ignored, as the RFC allows.
/// </summary>
public static class ContentDigest
{
    /// <summary>The header's name.</summary>
    public const string HeaderName = "Content-Digest";

    /// <summary>Longest header value read: 512 characters.</summary>
    public const int MaxLength = 512;

    /// <summary>The header value for <paramref name="body"/>: <c>sha-256=:…:</c>.</summary>
    public static string Compute(ReadOnlySpan<byte> body) => "sha-256=:" + Convert.ToBase64String(SHA256.HashData(body)) + ":";

    /// <summary>True when <paramref name="header"/> is a well-formed digest with a <c>sha-256</c> matching <paramref name="body"/>.</summary>
    public static bool Matches(string? header, ReadOnlySpan<byte> body) => Matches(header, body, default);

    /// <summary>As <see cref="Matches(string?, ReadOnlySpan{byte})"/> for a body in several buffers, hashed where it lies.</summary>
    public static bool Matches(string? header, in ReadOnlySequence<byte> body) =>
        body.IsSingleSegment ? Matches(header, body.FirstSpan, default) : Matches(header, default, body);

    /// <summary>The check over <paramref name="contiguous"/>, or over <paramref name="segmented"/> when it is not empty.</summary>
    private static bool Matches(string? header, ReadOnlySpan<byte> contiguous, in ReadOnlySequence<byte> segmented)
    {
        if (header is null || header.Length > MaxLength || StructuredField.ParseDictionary(header) is not { } members)
        {
            return false;
        }

        var sha256Seen = false;
        Span<byte> hash256 = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> hash512 = stackalloc byte[SHA512.HashSizeInBytes];
        foreach (var member in members)
        {
            if (member.Item is not { Value: byte[] digest })
            {
                return false;
            }

            switch (member.Key)
            {
                case "sha-256":
                    Hash(HashAlgorithmName.SHA256, contiguous, segmented, hash256);
                    if (!CryptographicOperations.FixedTimeEquals(digest, hash256))
                    {
                        return false;
                    }

                    sha256Seen = true;
                    break;
                case "sha-512":
                    Hash(HashAlgorithmName.SHA512, contiguous, segmented, hash512);
                    if (!CryptographicOperations.FixedTimeEquals(digest, hash512))
                    {
                        return false;
                    }

                    break;
            }
        }

        return sha256Seen;
    }

    private static void Hash(HashAlgorithmName algorithm, ReadOnlySpan<byte> contiguous, in ReadOnlySequence<byte> segmented, Span<byte> into)
    {
        if (segmented.IsEmpty)
        {
            _ = algorithm == HashAlgorithmName.SHA256 ? SHA256.HashData(contiguous, into) : SHA512.HashData(contiguous, into);
            return;
        }

        using var hash = IncrementalHash.CreateHash(algorithm);
        foreach (var part in segmented)
        {
            hash.AppendData(part.Span);
        }

        hash.GetHashAndReset(into);
    }
}
