namespace ServerlessServe.Core.Policy;

/// <summary>
/// Response padding (<c>padding</c> in <c>policy.json</c>): every released response body is padded to the smallest of
/// <see cref="Buckets"/> it fits (past the largest, to a multiple of it), so its length does not tell which class won
/// or how much was redacted. JSON bodies get trailing whitespace; binary bodies get the whitespace at the end of their
/// JSON header (its declared length grows with it), which keeps both valid for any V2 client.
/// </summary>
public sealed record PaddingPolicy
{
    /// <summary>Body sizes in bytes, ascending, each 64..16 MiB.</summary>
    public required IReadOnlyList<int> Buckets { get; init; }
}
