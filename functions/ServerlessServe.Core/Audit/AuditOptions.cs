using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace ServerlessServe.Core.Audit;

/// <summary>Options of the append-blob audit log (<see cref="BlobAuditSink"/>), bound from <c>ServerlessServe:Audit</c>.</summary>
public sealed class AuditOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "ServerlessServe:Audit";

    /// <summary>Blob container of chains and checkpoints; created when missing. Default <c>audit</c>.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")]
    public string Container { get; set; } = "audit";

    /// <summary>
    /// This writer's chain id (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>; at most 64). Default (null):
    /// <c>{machine}-{random8}</c>, a new chain per process. Give a stable id only when exactly one process uses it; the
    /// sink then continues that chain from its stored tail.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
    public string? WriterId { get; set; }

    /// <summary>
    /// How long the group-commit loop waits for more records after the first one of a group. Default zero: whatever is
    /// queued is committed at once, and groups form by themselves while an append is in flight (no added latency when
    /// idle; one append per group under load).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan GroupWindow { get; set; } = TimeSpan.Zero;

    /// <summary>Most records committed in one append. Default 256.</summary>
    [Range(1, 10_000)]
    public int MaxGroupRecords { get; set; } = 256;

    /// <summary>Most bytes committed in one append (an append block holds at most 4 MiB on every service version). Default 4 MiB.</summary>
    [Range(1024, 4 * 1024 * 1024)]
    public int MaxGroupBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Records per segment blob before rolling to the next. Default 10,000.</summary>
    [Range(1, 50_000)]
    public int SegmentMaxRecords { get; set; } = 10_000;

    /// <summary>Bytes per segment blob before rolling to the next. Default 4 MiB.</summary>
    [Range(1024, MaxSegmentBytesAllowed)]
    public long SegmentMaxBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The largest <see cref="SegmentMaxBytes"/> accepted, and the largest segment the verifier reads: 256 MiB.</summary>
    public const long MaxSegmentBytesAllowed = 256L * 1024 * 1024;

    /// <summary>
    /// A signed checkpoint is written once at least this many records follow the previous one. Also written: after the
    /// first group a writer commits, after <see cref="CheckpointInterval"/>, and on dispose. Default 100.
    /// </summary>
    [Range(1, 1_000_000)]
    public int CheckpointEvery { get; set; } = 100;

    /// <summary>
    /// Longest time committed records wait for a checkpoint (also while the writer is idle), so a quiet writer's tail is
    /// anchored too. Default 10 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "01:00:00")]
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Records waiting for commit before <see cref="IAuditSink.AppendAsync"/> waits for room. Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// Longest wait for one storage call of the commit loop (an append, or reading the tail after a failed one), retries
    /// included. A stalled store then fails the group in this time instead of the storage client's own network timeout.
    /// Default 2 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00")]
    public TimeSpan StorageTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Groups that must fail in a row before the log stops taking records for <see cref="BreakDuration"/> (a circuit
    /// breaker: callers then get 503 at once instead of each waiting for a store that is down). Default 2.
    /// </summary>
    [Range(1, 1000)]
    public int BreakAfterFailures { get; set; } = 2;

    /// <summary>
    /// How long the log refuses records once <see cref="BreakAfterFailures"/> groups failed in a row; then the next
    /// group tries the store again (and one more failure opens it again). Also the refused callers' <c>Retry-After</c>.
    /// Default 5 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:10:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The ECDSA P-256 private key that signs checkpoints, as PKCS#8 PEM (for configuration or a Key Vault secret).
    /// Ignored when <see cref="CheckpointKey"/> is set. One of the two is required.
    /// </summary>
    public string? CheckpointKeyPem { get; set; }

    /// <summary>
    /// Base64 HMAC key (at least 32 bytes) that pseudonymises caller ids in audit records (a Key Vault reference in
    /// Azure). Required by the gateway; no default.
    /// </summary>
    public string? PseudonymKey { get; set; }

    /// <summary>The ECDSA P-256 key that signs checkpoints, set in code; the sink does not dispose it. Default null.</summary>
    public ECDsa? CheckpointKey { get; set; }

    /// <summary>The independent witness of signed tree heads (see <see cref="AuditWitnessOptions"/>). Default: not configured.</summary>
    [ValidateObjectMembers]
    public AuditWitnessOptions Witness { get; set; } = new();

    /// <summary>True for a writer id the blob layout accepts.</summary>
    public static bool IsValidWriterId(string? writerId) =>
        writerId is { Length: > 0 and <= 64 }
        && !writerId.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        && writerId is not "." and not "..";

    /// <summary>A fresh writer id <c>{machine}-{random8}</c>: the machine name lower-cased and restricted to the id alphabet.</summary>
    public static string NewWriterId()
    {
        var machine = new string(Environment.MachineName.ToLowerInvariant().Select(static c => char.IsAsciiLetterOrDigit(c) ? c : '-').Take(40).ToArray()).Trim('-');
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        return machine.Length == 0 ? "writer-" + suffix : machine + "-" + suffix;
    }

    /// <summary>Throws when a value is out of range (the data annotations, for callers that construct options in code).</summary>
    public void Validate() => Validator.ValidateObject(this, new ValidationContext(this), validateAllProperties: true);

    /// <inheritdoc />
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (WriterId is not null && !IsValidWriterId(WriterId))
        {
            yield return new ValidationResult("ServerlessServe:Audit:WriterId may hold only letters, digits, '.', '_' and '-' (1-64).", [nameof(WriterId)]);
        }

        if (CheckpointKey is null && string.IsNullOrWhiteSpace(CheckpointKeyPem))
        {
            yield return new ValidationResult("ServerlessServe:Audit:CheckpointKeyPem (or CheckpointKey) is required to sign checkpoints.", [nameof(CheckpointKeyPem)]);
        }

        if (PseudonymKey is not null && !IsValidPseudonymKey(PseudonymKey))
        {
            yield return new ValidationResult("ServerlessServe:Audit:PseudonymKey must be base64 of at least 32 bytes.", [nameof(PseudonymKey)]);
        }
    }

    private static bool IsValidPseudonymKey(string key)
    {
        Span<byte> buffer = stackalloc byte[1024];
        return Convert.TryFromBase64String(key, buffer, out var written) && written >= 32;
    }
}
