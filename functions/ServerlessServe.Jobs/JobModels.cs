using System.Text.Json;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Jobs;

/// <summary>
/// What a job's orchestration starts with: the verified model version, who submitted it (identity and roles, never the
/// token) and the items' V2 request bodies.
/// </summary>
public sealed record JobInput(string JobId, string Model, string Version, string CallerSubject, IReadOnlyList<string> CallerRoles, IReadOnlyList<string> Items)
{
    /// <summary>The orchestration's input: this job as a JSON string.</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    public static JobInput Parse(string? json) =>
        JsonSerializer.Deserialize<JobInput>(json ?? throw new InvalidOperationException("A job needs its input."))
        ?? throw new InvalidOperationException("A job needs its input.");
}

/// <summary>
/// One item between activities (the stage contract, docs/design.md): plain values only. The request and the model's
/// response travel as V2 JSON; the verdicts of the stages that ran so far go along to the audit record.
/// </summary>
public sealed record ItemState
{
    public required string JobId { get; init; }

    public required int Index { get; init; }

    public required string Model { get; init; }

    public required string Version { get; init; }

    public required string CallerSubject { get; init; }

    public required IReadOnlyList<string> CallerRoles { get; init; }

    /// <summary>The item's V2 request body as submitted.</summary>
    public required string Request { get; init; }

    /// <summary>Set by infer: the model's response (V2 JSON) before redaction.</summary>
    public string? Inferred { get; init; }

    /// <summary>Set by redact: the released response (V2 JSON).</summary>
    public string? Released { get; init; }

    public IReadOnlyDictionary<string, int> Redactions { get; init; } = new Dictionary<string, int>();

    public IReadOnlyList<StageVerdict> Verdicts { get; init; } = [];

    /// <summary>The refusal's kind, when a stage refused.</summary>
    public RefusalKind? RefusalKind { get; init; }

    public string? RefusalMessage { get; init; }

    public string? RefusedAt { get; init; }

    /// <summary>Set by audit once the item's one record is committed.</summary>
    public bool Audited { get; init; }

    /// <summary>The audit record's request id: the job's id and the item's index.</summary>
    public string RequestId => $"{JobId}.{Index}";

    public static ItemState Start(JobInput job, int index)
    {
        ArgumentNullException.ThrowIfNull(job);
        return new ItemState
        {
            JobId = job.JobId,
            Index = index,
            Model = job.Model,
            Version = job.Version,
            CallerSubject = job.CallerSubject,
            CallerRoles = job.CallerRoles,
            Request = job.Items[index],
        };
    }
}

/// <summary>One item's outcome in a job's result: the released response, or the refusal's kind and safe message.</summary>
public sealed record ItemResult(int Index, string Outcome, JsonElement? Response, string? Error);

/// <summary>What a finished job's orchestration returns.</summary>
public sealed record JobOutput(IReadOnlyList<ItemResult> Items);

/// <summary>A running job's progress (the orchestration's custom status).</summary>
public sealed record JobProgress(int Items, int Done);
