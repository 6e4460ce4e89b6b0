using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Serving.Limits;

/// <summary>
/// Request limits on each gateway instance (<c>ServerlessServe:Limits</c>): the defaults of a model policy's
/// <c>limits</c>, and the instance's overall concurrency. The defaults are set high enough that one caller running
/// <c>ssctl bench</c> at 64 in flight is not limited; a model that needs tighter limits says so in its policy.
/// </summary>
public sealed class LimitOptions
{
    public const string SectionName = "ServerlessServe:Limits";

    /// <summary>Sustained requests per second per caller and model. Default 2,000.</summary>
    [Range(0.001, 100_000)]
    public double RequestsPerSecond { get; set; } = 2000;

    /// <summary>Requests per caller and model at once after being idle. Default 4,000.</summary>
    [Range(1, 100_000)]
    public int Burst { get; set; } = 4000;

    /// <summary>Requests per caller and model in flight at once. Default 64.</summary>
    [Range(1, 10_000)]
    public int Concurrency { get; set; } = 64;

    /// <summary>
    /// Inference requests one caller may have in flight on this instance, all models together; past it 429 with
    /// <c>Retry-After</c>, as for <see cref="Concurrency"/>. Default 256, a quarter of <see cref="GlobalConcurrency"/>:
    /// a caller allowed on many models, whose places per model add up past the instance's, cannot take all of the
    /// instance's places alone (with slow uploads, say) and leave every other caller 503 <c>server busy</c>.
    /// </summary>
    [Range(1, 100_000)]
    public int CallerConcurrency { get; set; } = 256;

    /// <summary>
    /// Misses per second one caller may have on this instance: requests on a model route (metadata, readiness, infer,
    /// job submission) answered as a model the caller cannot have — an unknown model or version, a honey name, a model
    /// whose policy does not admit the caller. Each costs a store lookup or an audit record before any model's limits
    /// apply. Past <see cref="MissBurst"/>, every model request of that caller is refused 429 with <c>Retry-After</c>
    /// before the model is looked up, whatever model it names, so the refusal tells nothing of which models exist.
    /// Default 10.
    /// </summary>
    [Range(0.001, 100_000)]
    public double MissesPerSecond { get; set; } = 10;

    /// <summary>Misses one caller may have at once after being quiet (<see cref="MissesPerSecond"/>). Default 100.</summary>
    [Range(1, 100_000)]
    public int MissBurst { get; set; } = 100;

    /// <summary>
    /// Inference requests in flight on this instance, all callers together; past it a request is shed at once (503 with
    /// <c>Retry-After</c>) before any other work. Default 1,024.
    /// </summary>
    [Range(1, 100_000)]
    public int GlobalConcurrency { get; set; } = 1024;

    /// <summary>
    /// Bytes of request bodies this instance holds at once, all callers together: each request's counted as its body
    /// arrives, and once it is all here with what reading it holds besides (the tensors it decodes to; a job's items as
    /// text), until the request ends (<see cref="RequestLimits.ReserveBody"/>, <see cref="CountedBodyStream"/>). Past it
    /// the read ends in 503 <c>server busy</c> with <c>Retry-After</c>. A request alone is always let in. Default 1 GiB,
    /// half of a Flex Consumption instance's 2 GB (the deployment sets half the instance's memory): without a bound,
    /// 1,024 requests of 16 MiB in flight held 16 GiB and more, and the instance ran out of memory for every caller.
    /// </summary>
    [Range(1L << 20, long.MaxValue)]
    public long BodyBytesInFlight { get; set; } = 1L << 30;

    /// <summary>
    /// Bytes of request bodies one caller may have counted on this instance at once (as <see cref="BodyBytesInFlight"/>);
    /// past it the read ends in 429 with <c>Retry-After</c>. A caller with nothing else counted is always let in. Default
    /// 256 MiB, a quarter of <see cref="BodyBytesInFlight"/> (as <see cref="CallerConcurrency"/> is of
    /// <see cref="GlobalConcurrency"/>): one caller's large uploads cannot take the whole budget from the others.
    /// </summary>
    [Range(1L << 20, long.MaxValue)]
    public long CallerBodyBytesInFlight { get; set; } = 256L << 20;

    /// <summary>
    /// Whether a caller's repeated 429s from its own limits (misses, a containment throttle, rate, concurrency, daily
    /// budget) are summarised: the first in each <see cref="RefusalSummaryInterval"/> is audited one by one, the rest are
    /// counted into one <c>rate-limit-refusals</c> record per caller and interval. Default true: the audit log then grows
    /// with time, not with a flood of refused requests. False audits every refusal one by one (logged as a warning at
    /// start): a caller flooding past its limits then adds one immutable record per refused request.
    /// </summary>
    public bool SummarizeRefusals { get; set; } = true;

    /// <summary>
    /// How often the summarised refusals (<see cref="SummarizeRefusals"/>) are written, and so how often each caller's next
    /// refusal is audited one by one again. Default 1 minute; 1 second to 1 hour.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RefusalSummaryInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The table of daily budgets (policy <c>limits.dailyElements</c>). Default <c>budgets</c>.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    public string BudgetTable { get; set; } = "budgets";
}
