using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Policy;

/// <summary>
/// The per-model-version policy (<c>policy.json</c>, schema in <c>schemas/policy.schema.json</c>): input limits,
/// output hardening and PII redaction. Signed with the model (its digest is in the manifest).
/// </summary>
public sealed record ModelPolicy
{
    public int SchemaVersion { get; init; } = 1;

    /// <summary>Largest first dimension (batch) a request may carry.</summary>
    public int MaxBatch { get; init; } = 1;

    /// <summary>Roles allowed to call the model (enforced from the identity issue on; empty means any authenticated caller).</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>Rules by input name.</summary>
    public IReadOnlyDictionary<string, InputRule> Inputs { get; init; } = new Dictionary<string, InputRule>();

    /// <summary>Rules by output name. Outputs without a rule are returned with the policy's <see cref="DefaultRound"/>.</summary>
    public IReadOnlyDictionary<string, OutputRule> Outputs { get; init; } = new Dictionary<string, OutputRule>();

    /// <summary>Digits kept for floating-point outputs that have no rule; null keeps them as computed.</summary>
    public int? DefaultRound { get; init; }

    /// <summary>How the gateway runs the model's plain <c>/infer</c>: inline (default) or through the jobs orchestration.</summary>
    public ExecutionMode Execution { get; init; } = ExecutionMode.Inline;

    /// <summary>PII entity types redacted from every BYTES output.</summary>
    public IReadOnlyList<PiiEntity> Redact { get; init; } = [];

    /// <summary>Size buckets released response bodies are padded to; null pads nothing.</summary>
    public PaddingPolicy? Padding { get; init; }

    /// <summary>Per-caller request rate and concurrency on this model; null: the gateway's defaults (<c>ServerlessServe:Limits</c>).</summary>
    public LimitsPolicy? Limits { get; init; }

    /// <summary>Input screening and adversarial-example detection; null runs none.</summary>
    public DefensePolicy? Defenses { get; init; }

    /// <summary>Signed requests (RFC 9421 with replay protection); null: not required.</summary>
    public SignaturePolicy? Signatures { get; init; }

    /// <summary>Dynamic batching of concurrent requests on the inference app; null: every request runs on its own.</summary>
    public BatchingPolicy? Batching { get; init; }
}
