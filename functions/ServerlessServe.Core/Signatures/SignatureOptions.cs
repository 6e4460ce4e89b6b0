using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Signatures;

/// <summary>Signed requests (<c>ServerlessServe:Signatures</c>): where keys and nonces are kept and how the window is read.</summary>
public sealed class SignatureOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Signatures";

    /// <summary>The table of request-signing public keys, by caller pseudonym and key id. Default <c>requestkeys</c>.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    public string KeyTable { get; set; } = "requestkeys";

    /// <summary>The replay store: one entity per nonce seen, until it expires. Default <c>requestnonces</c>.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    public string NonceTable { get; set; } = "requestnonces";

    /// <summary>
    /// The scheme and authority callers send requests to (e.g. <c>https://serving.example.com</c>), used for
    /// <c>@target-uri</c> in place of what the app's server sees: behind the Functions front end or a reverse proxy that
    /// is another scheme and host. Also the origin of a job's status URL (<c>Location</c>, <c>status_url</c>), which
    /// callers must be able to follow. Default none: the request's own scheme and <c>Host</c> (right on the local
    /// stack). Only scheme, host and port are used.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>How far <c>created</c> may be ahead of the gateway's clock. Default 30 seconds; at most 5 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each instance reads the key table: the longest a registration or revocation takes to reach it. Default 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// While reads of the key table fail, the last good view stays in force this long after the last good read; then
    /// every signed request is refused 503 (<c>key_store_unavailable</c>) until a read succeeds, so a revoked key cannot
    /// keep verifying on an instance kept from the table. Default 5 minutes, as for the signed lifecycle documents.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan KeyMaxStaleness { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Least time between two reads of the key table for key ids a caller's snapshot does not hold (one entity each), per
    /// caller and instance, so made-up key ids cost at most one read per caller per interval. Default 1 second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan UnknownKeyReadInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often expired nonces are deleted from the replay store (Azure Tables have no TTL). Default 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan NonceCleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublicBaseUrl is { } url
            && (!url.IsAbsoluteUri || url.Scheme is not ("https" or "http") || url.AbsolutePath != "/" || url.Query.Length > 0 || url.UserInfo.Length > 0))
        {
            yield return new ValidationResult("PublicBaseUrl must be an absolute http(s) URL of scheme, host and port only.", [nameof(PublicBaseUrl)]);
        }
    }
}
