namespace ServerlessServe.Core.Signatures;

/// <summary>The three headers a signed request carries, as <see cref="RequestSigner"/> makes them.</summary>
public sealed record SignatureHeaderValues(string ContentDigest, string SignatureInput, string Signature);
