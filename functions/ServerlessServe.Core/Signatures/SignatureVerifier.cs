using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// The checks of a signed request that need no storage, cheapest first: the headers parse strictly, <c>created</c> (and
/// <c>expires</c>) fit the window, the body matches <c>Content-Digest</c>, and the signature verifies with the caller's
/// key over the signature base rebuilt from what the gateway received.
/// </summary>
internal static class SignatureVerifier
{
    /// <summary>Parses the headers; null when absent or malformed (<see cref="Missing"/> tells which).</summary>
    public static SignatureParameters? Parse(SignedRequest request) =>
        SignatureHeaders.Parse(request.SignatureInput, request.Signature);

    /// <summary>True when the request carries none of the headers a signed request needs.</summary>
    public static bool Missing(SignedRequest? request) =>
        request is null || request.SignatureInput is null || request.Signature is null || request.ContentDigest is null;

    /// <summary><see cref="SignatureFailure.Stale"/> when <paramref name="parameters"/> fall outside the window, else none.</summary>
    public static SignatureFailure CheckTime(SignatureParameters parameters, DateTimeOffset now, TimeSpan maxAge, TimeSpan skew)
    {
        var nowSeconds = now.ToUnixTimeSeconds();
        if (parameters.Created > nowSeconds + (long)skew.TotalSeconds
            || nowSeconds - parameters.Created > (long)maxAge.TotalSeconds
            || parameters.Expires is { } expires && expires < nowSeconds)
        {
            return SignatureFailure.Stale;
        }

        return SignatureFailure.None;
    }

    /// <summary>Checks the digest of <paramref name="body"/>, then the signature with <paramref name="key"/>.</summary>
    public static SignatureFailure CheckContent(SignedRequest request, SignatureParameters parameters, in ReadOnlySequence<byte> body, ECDsa key, Uri? publicBaseUrl)
    {
        if (!ContentDigest.Matches(request.ContentDigest, body))
        {
            return SignatureFailure.DigestMismatch;
        }

        var signatureBase = SignatureBase.Build(parameters.Components.Select(name => (name, ValueOf(name, request, publicBaseUrl))), parameters.Serialized());
        if (signatureBase is null)
        {
            return SignatureFailure.Invalid;
        }

        var bytes = Encoding.ASCII.GetBytes(signatureBase);
        return key.VerifyData(bytes, parameters.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? SignatureFailure.None
            : SignatureFailure.Invalid;
    }

    private static string ValueOf(string component, SignedRequest request, Uri? publicBaseUrl) => component switch
    {
        "@method" => request.Method,
        "@target-uri" => request.TargetUri(publicBaseUrl),
        "content-digest" => request.ContentDigest?.Trim() ?? string.Empty,
        "authorization" => request.Authorization?.Trim() ?? string.Empty,
        _ => throw new InvalidOperationException("Only the required components are parsed."),
    };
}
