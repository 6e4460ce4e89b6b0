namespace ServerlessServe.Core.Signatures;

/// <summary>
/// What the HTTP edge hands on for a request that carries a signature: the request's method and target as the gateway
/// received them and the header values the signature covers. In-process only, never serialised or logged: it holds the
/// caller's bearer token (the <c>authorization</c> component).
/// </summary>
/// <param name="Method">The method, e.g. <c>POST</c>.</param>
/// <param name="Scheme">The scheme the gateway's server saw (<c>http</c> behind a TLS-terminating front end).</param>
/// <param name="Authority">The <c>Host</c> header as received (host, and port when not the default).</param>
/// <param name="Target">The request target: absolute path and query, as sent (percent-encoding kept).</param>
/// <param name="SignatureInput">The <c>Signature-Input</c> header.</param>
/// <param name="Signature">The <c>Signature</c> header.</param>
/// <param name="ContentDigest">The <c>Content-Digest</c> header, or null.</param>
/// <param name="Authorization">The <c>Authorization</c> header, or null.</param>
public sealed record SignedRequest(
    string Method,
    string Scheme,
    string Authority,
    string Target,
    string? SignatureInput,
    string? Signature,
    string? ContentDigest,
    string? Authorization)
{
    /// <summary>The <c>@target-uri</c> this request was sent to: <paramref name="publicBaseUrl"/>'s scheme and authority when given, else what the server saw.</summary>
    public string TargetUri(Uri? publicBaseUrl) =>
        publicBaseUrl is null
            ? Scheme.ToLowerInvariant() + "://" + Authority + Target
            : publicBaseUrl.GetLeftPart(UriPartial.Authority) + Target;

    /// <summary>No secret in a debugger or a log line by mistake.</summary>
    public override string ToString() => $"{Method} {Target} (signed)";
}
