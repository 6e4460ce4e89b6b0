using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// Signs a request the way the gateway verifies it (for <c>ssctl</c>, tests and .NET clients): <c>Content-Digest</c>
/// (sha-256) of the body, then an RFC 9421 signature labelled <c>sig1</c> over <c>@method</c>, <c>@target-uri</c>,
/// <c>content-digest</c> and <c>authorization</c> with <c>created</c>, <c>keyid</c>, <c>nonce</c> and <c>alg</c>, signed
/// ECDSA P-256 SHA-256 in the raw r‖s form.
/// </summary>
public static class RequestSigner
{
    /// <summary>The label of the signature.</summary>
    public const string Label = "sig1";

    /// <summary>A fresh nonce: 16 random bytes in base64url (22 characters).</summary>
    public static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The headers for a request to <paramref name="targetUri"/> with <paramref name="body"/> and <paramref name="authorization"/> (e.g. <c>Bearer …</c>).</summary>
    public static SignatureHeaderValues Sign(
        ECDsa key, string keyId, string method, string targetUri, ReadOnlySpan<byte> body, string authorization, DateTimeOffset created, string? nonce = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentException.ThrowIfNullOrEmpty(targetUri);
        ArgumentNullException.ThrowIfNull(authorization);
        if (!SignatureHeaders.IsValidKeyId(keyId))
        {
            throw new ArgumentException("A key id is 1-64 characters of A-Z a-z 0-9 . _ : -", nameof(keyId));
        }

        nonce ??= NewNonce();
        if (!SignatureHeaders.IsValidNonce(nonce))
        {
            throw new ArgumentException("A nonce is 16-128 characters of A-Z a-z 0-9 - _", nameof(nonce));
        }

        var digest = ContentDigest.Compute(body);
        var parameters = new SignatureParameters(
            Label,
            SignatureHeaders.RequiredComponents,
            [
                new("created", created.ToUnixTimeSeconds()),
                new("keyid", keyId),
                new("nonce", nonce),
                new("alg", SignatureHeaders.Algorithm),
            ],
            created.ToUnixTimeSeconds(),
            null,
            keyId,
            nonce,
            []);
        var serialized = parameters.Serialized();
        var signatureBase = SignatureBase.Build(
            [("@method", method.ToUpperInvariant()), ("@target-uri", targetUri), ("content-digest", digest), ("authorization", authorization.Trim())],
            serialized) ?? throw new ArgumentException("A component holds a character a header may not.");
        var signature = key.SignData(Encoding.ASCII.GetBytes(signatureBase), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new SignatureHeaderValues(digest, Label + "=" + serialized, Label + "=:" + Convert.ToBase64String(signature) + ":");
    }
}
