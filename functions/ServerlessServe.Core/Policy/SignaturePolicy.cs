namespace ServerlessServe.Core.Policy;

/// <summary>
/// Signed requests on one model (<c>signatures</c> in <c>policy.json</c>): when <see cref="Required"/>, every inference
/// request and job must carry an RFC 9421 signature by a key registered to the caller, created within
/// <see cref="MaxAge"/>, with a nonce not seen before (docs/identity.md, "Signed requests").
/// </summary>
public sealed record SignaturePolicy
{
    /// <summary>Longest accepted <see cref="MaxAge"/>: one hour.</summary>
    public static TimeSpan MaxMaxAge { get; } = TimeSpan.FromHours(1);

    /// <summary>Whether requests must be signed.</summary>
    public bool Required { get; init; }

    /// <summary>How old a signature's <c>created</c> may be (ISO 8601 duration). Default 5 minutes; 1 second to 1 hour.</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromMinutes(5);
}
