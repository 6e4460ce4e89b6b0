using System.ComponentModel.DataAnnotations;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Options;

/// <summary>
/// The gateway's tripwires (section <c>ServerlessServe:Canaries</c>): honey model names, honey token subjects and
/// canary values, and what an alarm does to the caller it names. Every list is empty by default: an empty list turns
/// its checks off. Canary values are secrets (Key Vault in Azure): no message, log or record ever holds one, only its
/// id (<see cref="CanaryTokens.IdOf"/>).
/// </summary>
internal sealed class CanaryOptions : IValidatableObject
{
    public const string SectionName = "ServerlessServe:Canaries";

    /// <summary>Model names served nowhere and listed nowhere; a request for one raises <c>honey-model</c>. Valid model names. Default empty.</summary>
    [MaxLength(256)]
    public List<string> HoneyModels { get; set; } = [];

    /// <summary>Token subjects never issued to anyone; a valid token carrying one raises <c>honey-caller</c>. Default empty.</summary>
    [MaxLength(256)]
    public List<string> HoneySubjects { get; set; } = [];

    /// <summary>
    /// Canary values: 16 to 256 characters, each a letter, digit, <c>-</c>, <c>.</c>, <c>_</c> or <c>~</c>. A released
    /// output, an outbound request, a log line or a span carrying one raises <c>canary-output</c>,
    /// <c>canary-egress</c> or <c>canary-telemetry</c>. Default empty.
    /// </summary>
    [MaxLength(64)]
    public List<string> Tokens { get; set; } = [];

    /// <summary>What an alarm naming a caller does to it: <c>None</c> (record only), <c>Throttle</c> or <c>Block</c>. Default <c>Block</c>.</summary>
    public ContainmentKind Action { get; set; } = ContainmentKind.Block;

    /// <summary>
    /// When true, a canary in a released output quarantines the model version that released it (until lifted with
    /// <c>ssctl contain lift quarantine</c>) instead of acting on the caller. Default false.
    /// </summary>
    public bool QuarantineOnOutput { get; set; }

    /// <summary>How long a block (or throttle) lasts. Default 1 hour.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan BlockFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The request rate a throttled caller is held to, per minute. Default 6.</summary>
    [Range(1, 10_000)]
    public int ThrottleRequestsPerMinute { get; set; } = 6;

    /// <summary>
    /// Largest outbound request body searched for canary values (a larger one, or one that can only be read once, goes
    /// unsearched; its URI and headers are still searched). Default 16 MiB, the default request body limit.
    /// </summary>
    [Range(0, 256 * 1024 * 1024)]
    public int EgressScanLimitBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>The containment of <see cref="Action"/>.</summary>
    public ContainmentAction Containment() => Action switch
    {
        ContainmentKind.Block => new ContainmentAction(ContainmentKind.Block, BlockFor),
        ContainmentKind.Throttle => new ContainmentAction(ContainmentKind.Throttle, BlockFor, ThrottleRequestsPerMinute),
        _ => ContainmentAction.None,
    };

    /// <summary>The tripwires these options describe (validated first).</summary>
    public Canaries ToCanaries() => new(HoneyModels, HoneySubjects, new CanaryTokens(Tokens), Containment()) { QuarantineOnOutput = QuarantineOnOutput };

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < HoneyModels.Count; i++)
        {
            if (!Canaries.IsValidHoneyModel(HoneyModels[i]))
            {
                yield return new ValidationResult($"{SectionName}:HoneyModels:{i} must be a valid model name (a request could never name it).", [nameof(HoneyModels)]);
            }
        }

        for (var i = 0; i < HoneySubjects.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(HoneySubjects[i]))
            {
                yield return new ValidationResult($"{SectionName}:HoneySubjects:{i} is empty.", [nameof(HoneySubjects)]);
            }
        }

        for (var i = 0; i < Tokens.Count; i++)
        {
            // Never the value: it is a secret.
            if (!CanaryTokens.IsValid(Tokens[i]))
            {
                yield return new ValidationResult(
                    $"{SectionName}:Tokens:{i} must be {CanaryTokens.MinLength}-{CanaryTokens.MaxLength} characters, each a letter, digit, '-', '.', '_' or '~'.",
                    [nameof(Tokens)]);
            }
        }

        if (Action is not (ContainmentKind.None or ContainmentKind.Throttle or ContainmentKind.Block))
        {
            yield return new ValidationResult($"{SectionName}:Action must be None, Throttle or Block (quarantine applies to model versions).", [nameof(Action)]);
        }
    }
}
