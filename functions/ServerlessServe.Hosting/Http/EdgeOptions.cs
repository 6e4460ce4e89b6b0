using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// How the HTTP edge of both apps treats slow requests and refusals of access (section <c>ServerlessServe:Edge</c>).
/// The Kestrel limits apply where the app runs standalone; under the Functions host the host's own front end applies its
/// limits, and <see cref="BodyReadIdleTimeout"/> and <see cref="BodyReadTimeout"/> (enforced by the edge's body reader)
/// hold in both hosts.
/// </summary>
public sealed class EdgeOptions
{
    /// <summary>Configuration section the hosts bind these options from.</summary>
    public const string SectionName = "ServerlessServe:Edge";

    /// <summary>
    /// Longest wait for the next bytes of a request body once reading has started; a body that stalls longer is refused
    /// with 408. Default 15 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan BodyReadIdleTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Longest a request body may take to arrive in full, from the first read; a body still arriving after it is
    /// refused with 408. Default 2 minutes: 16 MiB (the largest jobs body) needs about 1.1 Mbit/s. Without it, a
    /// trickle just fast enough for the idle timeout and Kestrel's minimum rate held its request's places (the
    /// instance's admission, the caller's concurrency on the model) for hours; under the Functions host, which passes
    /// a chunked body through, only the idle timeout applied. Holds in both hosts.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan BodyReadTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Standalone: the slowest average rate, in bytes per second, at which Kestrel keeps reading a request body (its
    /// <c>MinRequestBodyDataRate</c>) after <see cref="MinRequestBodyDataRateGracePeriod"/>; slower bodies are refused
    /// with 408. Default 240 (Kestrel's own default); 0 turns the rate check off.
    /// </summary>
    [Range(0, 1_000_000_000)]
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>Standalone: how long a body may be slower than <see cref="MinRequestBodyBytesPerSecond"/> before the rate counts. Default 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:01.100", "00:10:00")]
    public TimeSpan MinRequestBodyDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Standalone: the longest Kestrel waits for a request's headers once the connection is open (its
    /// <c>RequestHeadersTimeout</c>); past it Kestrel answers 408 and closes. Default 15 seconds (Kestrel's is 30).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The most memory, in bytes, that the app's Kestrel may hold at once in 64 KiB receive and send blocks (across all
    /// its pools: one per I/O queue of each listening address), which take a large body in a sixteenth of the system
    /// calls of Kestrel's own 4 KiB blocks (<see cref="ReceiveBlockMemoryPool"/>). Past it, and when 0, Kestrel gets
    /// 4 KiB blocks, as from its own pool. Default 64 MiB (1,024 blocks). It applies to the app's own Kestrel in both
    /// hosts (under the Functions host, the one the host forwards requests to).
    /// </summary>
    [Range(0L, 1L << 30)]
    public long ReceiveBlockMemoryBytes { get; set; } = 64L << 20;

    /// <summary>
    /// When true, a model route answers a refusal of access (403) exactly as it answers an unknown model or version
    /// (404, the same body), so a caller cannot learn which models exist; the audit record and the logs keep the true
    /// reason. Default true.
    /// </summary>
    public bool HideModelExistence { get; set; } = true;
}
