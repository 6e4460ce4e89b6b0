using System.Text.Json;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Jobs;

/// <summary>
/// What a job's orchestration starts with: the verified model version, who submitted it (identity and roles, never the
/// token), how many items, and the items in chunks of <see cref="ChunkSize"/>, each chunk's <see cref="ItemState"/>s as
/// a <see cref="Payload"/> (inline, or a blob reference above the claim-check threshold), and how many chunks run at
/// once (<see cref="JobOptions.ChunksInFlight"/> when it was submitted; 0, in a job submitted before that setting
/// existed, is all of them, as such a job's history already says). What ran beside the job when it was submitted
/// (<paramref name="StartedAlone"/>, <paramref name="StartedCallerJobs"/>, <paramref name="StartedBesideOtherCallers"/>)
/// sizes its first window (<see cref="FirstWindow"/>: <paramref name="ChunksInFlightAlone"/> chunks when alone), and the
/// window is decided again as each chunk is audited (<see cref="WindowAfter"/>); a job submitted before these existed
/// has them 0 and false, and keeps to <see cref="Window"/>.
/// </summary>
public sealed record JobInput(string JobId, string Model, string Version, string CallerSubject, IReadOnlyList<string> CallerRoles, int Items, int ChunkSize, IReadOnlyList<Payload> Chunks, int ChunksInFlight = 0, int ChunksInFlightAlone = 0, bool StartedAlone = false, int StartedCallerJobs = 0, bool StartedBesideOtherCallers = false)
{
    /// <summary>The orchestration's input: this job as a JSON string.</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    public static JobInput Parse(string? json) =>
        JsonSerializer.Deserialize<JobInput>(json ?? throw new InvalidOperationException("A job needs its input."))
        ?? throw new InvalidOperationException("A job needs its input.");

    /// <summary>How many chunks run at once: <see cref="ChunksInFlight"/>, or all of them when it is 0.</summary>
    public int Window => ChunksInFlight > 0 ? Math.Min(ChunksInFlight, Chunks.Count) : Chunks.Count;

    /// <summary>How many chunks may run at once: <see cref="Window"/>, or more when the job is alone and may widen.</summary>
    public int WindowFor(bool alone) => alone && ChunksInFlightAlone > Window ? Math.Min(ChunksInFlightAlone, Chunks.Count) : Window;

    /// <summary>
    /// How many chunks may run at once after a chunk's audit step saw <paramref name="audited"/>'s surroundings: wider
    /// when the job was alone; when another caller's job ran beside it, the job's caller shares <see cref="Window"/>
    /// among its jobs there (at least one chunk each), so a caller with many jobs does not get many windows to
    /// another's one; otherwise <see cref="Window"/>. A step written before these facts existed says none of them:
    /// <see cref="Window"/>.
    /// </summary>
    public int WindowAfter(ChunkStep audited)
    {
        ArgumentNullException.ThrowIfNull(audited);
        return WindowBeside(audited.Alone, audited.CallerJobs, audited.OtherCallers);
    }

    /// <summary>How many chunks start at once: as <see cref="WindowAfter"/>, from what ran beside the job at submission.</summary>
    public int FirstWindow => WindowBeside(StartedAlone, StartedCallerJobs, StartedBesideOtherCallers);

    private int WindowBeside(bool alone, int callerJobs, bool otherCallers) =>
        alone ? WindowFor(alone: true)
        : otherCallers && callerJobs > 1 ? Math.Max(1, Window / callerJobs)
        : Window;

    /// <summary>How many items chunk <paramref name="chunk"/> holds.</summary>
    public int ItemsIn(int chunk) => Math.Min(ChunkSize, Items - (chunk * ChunkSize));
}

/// <summary>
/// One chunk of a job between two activities: whose it is, which step produced it (the orchestrator checks both, so a
/// completion left over from an attempt that was never committed cannot stand in for another step's), its items as a
/// <see cref="Payload"/>, how many items still wait for inference, and what ran beside the job on the instance that ran
/// the audit step (<see cref="JobTraffic.Around"/>: alone, its caller's jobs there, another caller's job there), from
/// which the orchestrator sizes the job's next window (<see cref="JobInput.WindowAfter"/>). <see cref="Cancelled"/>: the
/// job was cancelled before this step, whose items not yet inferred are then refused as cancelled.
/// <see cref="GaveUpAt"/>: the step that failed on every attempt, whose items not refused yet the give-up step refuses.
/// </summary>
public sealed record ChunkStep(string JobId, int Chunk, string Step, Payload Items, int InferPending = 0, int Chunks = 1, bool Alone = false, int CallerJobs = 0, bool OtherCallers = false, bool Cancelled = false, string? GaveUpAt = null);

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

    /// <summary>The submitting token's id (<c>jti</c>), so that a revocation of that token stops the job's remaining items.</summary>
    public string? CallerTokenId { get; init; }

    /// <summary>The submitting token's <c>iat</c>, so that revoking the caller's tokens issued up to a time stops the job's remaining items.</summary>
    public DateTimeOffset? CallerIssuedAt { get; init; }

    /// <summary>The item's V2 request body as submitted.</summary>
    public required string Request { get; init; }

    /// <summary>Set by infer: the model's response (V2 JSON) before redaction.</summary>
    public string? Inferred { get; init; }

    /// <summary>Set by redact: the released response (V2 JSON).</summary>
    public string? Released { get; init; }

    public IReadOnlyDictionary<string, int> Redactions { get; init; } = new Dictionary<string, int>();

    public IReadOnlyList<StageVerdict> Verdicts { get; init; } = [];

    /// <summary>Set by screen (validate) and squeeze (infer): each defense's finding.</summary>
    public IReadOnlyList<DefenseFinding> Defenses { get; init; } = [];

    /// <summary>The refusal's kind, when a stage refused.</summary>
    public RefusalKind? RefusalKind { get; init; }

    public string? RefusalMessage { get; init; }

    /// <summary>The refusal's <c>Retry-After</c> (a daily budget spent, storage unavailable), for an orchestrated model's answer.</summary>
    public TimeSpan? RefusalRetryAfter { get; init; }

    public string? RefusedAt { get; init; }

    /// <summary>Set by audit once the item's one record is committed.</summary>
    public bool Audited { get; init; }

    /// <summary>Set by infer when the inference app failed transiently for this item: it is tried again later.</summary>
    public bool InferPending { get; init; }

    /// <summary>The caller asked for a signed receipt of each item's audit record (<c>x-audit-receipt: ?1</c> on submit).</summary>
    public bool ReceiptRequested { get; init; }

    /// <summary>The audit record's request id: the job's id and the item's index.</summary>
    public string RequestId => $"{JobId}.{Index}";

    public static ItemState Start(string jobId, int index, string model, string version, CallerIdentity caller, string request, bool receipt = false)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return new ItemState
        {
            JobId = jobId,
            Index = index,
            Model = model,
            Version = version,
            CallerSubject = caller.Subject,
            CallerRoles = caller.Roles,
            CallerTokenId = caller.TokenId,
            CallerIssuedAt = caller.IssuedAt,
            Request = request,
            ReceiptRequested = receipt,
        };
    }
}

/// <summary>One item's outcome in a job's result: the released response, or the refusal's kind and safe message.</summary>
public sealed record ItemResult(int Index, string Outcome, JsonElement? Response, string? Error, string? Receipt = null, TimeSpan? RetryAfter = null);

/// <summary>
/// What a finished job's orchestration returns: per chunk, its items' results (an array of <see cref="ItemResult"/>) as
/// a payload. A cancelled job returns only the chunks it started, in order, <see cref="Items"/> then counting their
/// items (each audited before it ended: released, or refused).
/// </summary>
public sealed record JobOutput(int Items, IReadOnlyList<Payload> Chunks, bool Cancelled = false);

/// <summary>A running job's progress (the orchestration's custom status); <see cref="Cancelling"/>: cancelled, its chunks in flight being finished.</summary>
public sealed record JobProgress(int Items, int Done, bool Cancelling = false);
