namespace ServerlessServe.Core.Signatures;

/// <summary>
/// Strict reading of <c>Signature-Input</c> and <c>Signature</c> for the one profile this gateway verifies: exactly one
/// signature (one label in each header, the same), covering exactly <c>@method</c>, <c>@target-uri</c>,
/// <c>content-digest</c> and <c>authorization</c> (any order, no component parameters), with <c>created</c>,
/// <c>keyid</c> and <c>nonce</c>, optionally <c>expires</c> and <c>alg</c> (only <c>ecdsa-p256-sha256</c>), and
/// nothing else; a 64-byte signature. Anything else is refused, never skipped.
/// </summary>
public static class SignatureHeaders
{
    public const string SignatureInputHeader = "Signature-Input";
    public const string SignatureHeader = "Signature";

    /// <summary>The algorithm name of RFC 9421 §3.3.4.</summary>
    public const string Algorithm = "ecdsa-p256-sha256";

    /// <summary>Longest <c>Signature-Input</c> read: 1024 characters.</summary>
    public const int MaxInputLength = 1024;

    /// <summary>Longest <c>Signature</c> read: 256 characters (a 64-byte signature is 88 in base64).</summary>
    public const int MaxSignatureLength = 256;

    /// <summary>Shortest and longest nonce: 16 and 128 characters (at least 96 bits of randomness in base64url).</summary>
    public const int MinNonceLength = 16;

    public const int MaxNonceLength = 128;

    /// <summary>Longest key id: 64 characters of <c>A-Z a-z 0-9 . _ : -</c> (a table row key).</summary>
    public const int MaxKeyIdLength = 64;

    /// <summary>The components every signature must cover.</summary>
    public static IReadOnlyList<string> RequiredComponents { get; } = ["@method", "@target-uri", "content-digest", "authorization"];

    /// <summary>True when <paramref name="keyId"/> is a key id this gateway takes.</summary>
    public static bool IsValidKeyId(string? keyId) =>
        keyId is { Length: > 0 and <= MaxKeyIdLength } && keyId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');

    /// <summary>True when <paramref name="nonce"/> is a nonce this gateway takes (base64url or hex characters).</summary>
    public static bool IsValidNonce(string? nonce) =>
        nonce is { Length: >= MinNonceLength and <= MaxNonceLength } && nonce.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    internal static SignatureParameters? Parse(string? signatureInput, string? signature)
    {
        if (signatureInput is null || signature is null || signatureInput.Length > MaxInputLength || signature.Length > MaxSignatureLength)
        {
            return null;
        }

        if (StructuredField.ParseDictionary(signatureInput) is not [{ InnerList: { } components } input]
            || StructuredField.ParseDictionary(signature) is not [{ Item: { Value: byte[] { Length: 64 } bytes, Parameters.Count: 0 } } sig]
            || sig.Key != input.Key)
        {
            return null;
        }

        var names = new List<string>(components.Count);
        foreach (var component in components)
        {
            if (component is not { Value: string name, Parameters.Count: 0 } || !RequiredComponents.Contains(name, StringComparer.Ordinal) || names.Contains(name, StringComparer.Ordinal))
            {
                return null;
            }

            names.Add(name);
        }

        if (names.Count != RequiredComponents.Count)
        {
            return null;
        }

        long? created = null;
        long? expires = null;
        string? keyId = null;
        string? nonce = null;
        foreach (var (key, value) in input.Parameters)
        {
            switch (key, value)
            {
                case ("created", long c) when c > 0:
                    created = c;
                    break;
                case ("expires", long e) when e > 0:
                    expires = e;
                    break;
                case ("keyid", string k) when IsValidKeyId(k):
                    keyId = k;
                    break;
                case ("nonce", string n) when IsValidNonce(n):
                    nonce = n;
                    break;
                case ("alg", Algorithm):
                    break;
                default:
                    return null;
            }
        }

        return created is { } at && keyId is not null && nonce is not null
            ? new SignatureParameters(input.Key, names, input.Parameters, at, expires, keyId, nonce, bytes)
            : null;
    }
}
