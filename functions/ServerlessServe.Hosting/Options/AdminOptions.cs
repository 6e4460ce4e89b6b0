using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Options;

/// <summary>The admin plane's own limits (section <c>ServerlessServe:Admin</c>). Callers are configured in <c>ServerlessServe:Identity</c> with the admin app's own audience.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "ServerlessServe:Admin";

    /// <summary>
    /// Largest package a publish takes, in bytes: the upload, and its files once expanded (both held in memory while
    /// verified). Default 128 MiB; at most 1 GiB. Under the Functions host <c>FUNCTIONS_REQUEST_BODY_SIZE_LIMIT</c> must
    /// be the same. Larger models are published with <c>ssctl model publish</c> straight to storage.
    /// </summary>
    [Range(1024, 1L << 30)]
    public long MaxPackageBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Security events a read returns when the request names no <c>limit</c>. Default 100.</summary>
    [Range(1, 1000)]
    public int DefaultEventLimit { get; set; } = 100;

    /// <summary>Most security events one read returns. Default 1000.</summary>
    [Range(1, 10_000)]
    public int MaxEventLimit { get; set; } = 1000;

    /// <summary>Checkpoints per writer a read returns. Default 5.</summary>
    [Range(1, 1000)]
    public int CheckpointsPerWriter { get; set; } = 5;

    /// <summary>
    /// PEM public keys of other writers' checkpoint keys to check signatures with, besides this app's own
    /// (<c>ServerlessServe:Audit:CheckpointKeyPem</c>). Default empty.
    /// </summary>
    public List<string> TrustedCheckpointKeyPems { get; set; } = [];

    /// <summary>
    /// Whether an authenticated caller's repeated refusals by the admin plane's gate (no admin role, blocked, a data-plane
    /// token, a revoked token) are summarised: the first in each <see cref="RefusalSummaryInterval"/> is audited one by
    /// one, the rest are counted into one <c>admin-refusals</c> record per caller and interval. Default true: any holder
    /// of a token for this deployment can reach the gate, and would otherwise add one immutable record per request. False
    /// audits every refusal one by one (logged as a warning at start).
    /// </summary>
    public bool SummarizeRefusals { get; set; } = true;

    /// <summary>How often the summarised refusals are written. Default 1 minute; 1 second to 1 hour.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RefusalSummaryInterval { get; set; } = TimeSpan.FromMinutes(1);
}
