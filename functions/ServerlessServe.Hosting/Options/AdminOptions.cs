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
}
