using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// How each instance follows the signed lifecycle documents and revocation list, and re-attests what it holds in memory.
/// Bound from <c>ServerlessServe:ServingControl</c>.
/// </summary>
public sealed class ServingControlOptions
{
    public const string SectionName = "ServerlessServe:ServingControl";

    /// <summary>
    /// How often the lifecycle documents and the revocation list are read: the longest a retirement or revocation
    /// published elsewhere takes to reach this instance (plus one read). Default 5 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a request waits for the first read after start; past it the request is refused (unavailable): nothing
    /// serves before the revocation list has been read. Default 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan FirstReadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the last good read stays in force while reads fail; past it every request is refused (unavailable)
    /// until a read succeeds, so a revocation cannot be held off by keeping an instance from storage. Default 5 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often each instance re-hashes the model artifacts it holds in memory (manifest, policy, profile, and in the
    /// inference app the model bytes its session was created from) against the signed digests. Default 60 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ReattestInterval { get; set; } = TimeSpan.FromSeconds(60);
}
