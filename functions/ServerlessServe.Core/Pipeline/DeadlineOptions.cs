using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// How long a request's stages may take (section <c>ServerlessServe:Deadlines</c>): a request that runs out of time is
/// refused as unavailable (503 with <c>Retry-After</c>, verdict <c>refused:unavailable:deadline</c>) instead of
/// hanging on a slow or stopped dependency. See docs/design.md, "Deadlines and fail-fast".
/// </summary>
public sealed class DeadlineOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Deadlines";

    /// <summary>
    /// The budget of a request's stages, from its first stage to its last one before the closing stages, not counting the
    /// time a stage marked <see cref="IUnbudgetedStage"/> takes (receiving the body: an upload's speed is the caller's
    /// network, bounded by the edge's own data-rate limits). Every storage and inference call inside it gets the
    /// remaining time as its cancellation. Default 30 s: the first request for a version pays for downloading and
    /// verifying it (and the inference app for loading it), which takes seconds for a large model on a busy instance;
    /// deployments whose models load fast should set less (the fault tests run with 5 s).
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns it off.
    /// </summary>
    public TimeSpan Request { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Caps for single stages by stage name (e.g. <c>"infer": "00:00:03"</c>), within what is left of
    /// <see cref="Request"/>. Default: none.
    /// </summary>
    public Dictionary<string, TimeSpan> Stages { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// How long each closing stage (the audit commit) may take, on its own clock: it runs even after
    /// <see cref="Request"/> has run out, and a record that is not committed within it withholds the response (503).
    /// Default 2 s.
    /// </summary>
    public TimeSpan Closing { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The <c>Retry-After</c> of a request refused for running out of time. Default 1 s.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ValidationException"/> when a value is out of range.</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsValid(Request) || !IsValid(Closing))
        {
            yield return new ValidationResult("Request and Closing must be positive and at most a day (or infinite).", [nameof(Request), nameof(Closing)]);
        }

        if (Stages.Any(static s => !IsValid(s.Value)))
        {
            yield return new ValidationResult("Every stage cap must be positive and at most a day (or infinite).", [nameof(Stages)]);
        }

        if (RetryAfter < TimeSpan.Zero)
        {
            yield return new ValidationResult("RetryAfter cannot be negative.", [nameof(RetryAfter)]);
        }
    }

    /// <summary>
    /// The longest finite deadline: a day. A deadline is a timer, and one past about 49.7 days (the most a timer takes)
    /// threw when a request built it, outside the stages, so the closing stages never ran and the request's admission
    /// and concurrency places were never given back (review, 2026-12-07). No request runs anywhere near a day.
    /// </summary>
    public static TimeSpan MaxDeadline { get; } = TimeSpan.FromDays(1);

    private static bool IsValid(TimeSpan value) => value == Timeout.InfiniteTimeSpan || (value > TimeSpan.Zero && value <= MaxDeadline);
}
