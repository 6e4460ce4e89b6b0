using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Artifacts;

/// <summary>How the <see cref="ModelCatalog"/> verifies and caches. Bound from <c>ServerlessServe:ModelCatalog</c>.</summary>
public sealed class ModelCatalogOptions
{
    public const string SectionName = "ServerlessServe:ModelCatalog";

    /// <summary>
    /// Whether resolving a version also streams model.onnx through SHA-256 (without keeping it). Default true. The
    /// inference host always verifies the model bytes it loads, whatever this says.
    /// </summary>
    public bool VerifyModelDigest { get; set; } = true;

    /// <summary>How long the version listing used to find the newest version is reused. Default 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan LatestCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a version that failed verification is skipped before it is tried again. Default 60 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan FailedVersionRetryAfter { get; set; } = TimeSpan.FromSeconds(60);
}
