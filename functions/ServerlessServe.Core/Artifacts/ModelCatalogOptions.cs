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

    /// <summary>
    /// How long after it was read a model's version listing may still answer "latest" while a newer one is being read
    /// (stale-while-revalidate): past <see cref="LatestCacheTtl"/> the listing held is used at once and a read starts on
    /// the side, so a slow or unreachable store costs requests nothing until this has passed; after it, requests wait for
    /// the store again. The same bound as the lifecycle view's (<c>ServingControl:MaxStaleness</c>). Zero turns it off.
    /// Default 5 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ListingMaxStale { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a version that failed verification is skipped before it is tried again. Default 60 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan FailedVersionRetryAfter { get; set; } = TimeSpan.FromSeconds(60);
}
