using System.Text.Json.Serialization;

namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// What a request carries through its stages. The base holds the request id, the verdict of every stage that ran, and
/// the refusal that stopped it (if one did). Derived contexts add plain, serialisable values (see docs/design.md, "The
/// stage contract"): anything that cannot cross a process boundary is marked <see cref="JsonIgnoreAttribute"/>.
/// </summary>
public abstract class RequestContext
{
    private static readonly AsyncLocal<RequestContext?> Ambient = new();

    private readonly List<StageVerdict> _verdicts = [];

    protected RequestContext(string requestId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(requestId);
        RequestId = requestId;
    }

    /// <summary>
    /// The request whose stages run on this asynchronous flow, or null: set by <see cref="StagePipeline{TContext}"/> for
    /// the length of a run (like <c>Activity.Current</c>), so code far below a stage — a log line, an outbound call —
    /// can name the request and caller it served when it raises a security event. Read it; never keep it.
    /// </summary>
    public static RequestContext? Current
    {
        get => Ambient.Value;
        internal set => Ambient.Value = value;
    }

    /// <summary>Made by the server for every request (never taken from the caller).</summary>
    public string RequestId { get; }

    /// <summary>Every stage that ran, in order, with its verdict.</summary>
    public IReadOnlyList<StageVerdict> Verdicts => _verdicts;

    /// <summary>The refusal that stopped the request; null while it passes.</summary>
    public Refusal? Refusal { get; private set; }

    /// <summary>The name of the stage that refused, or null.</summary>
    public string? RefusedAt { get; private set; }

    /// <summary>
    /// Verdicts by stage name (the audit record's <c>stages</c>). A stage with two verdicts (a job's step carried over
    /// twice) has its last: the record must always be buildable, or an item the model ran on could go unaudited (it
    /// threw before 2026-12-07).
    /// </summary>
    public IReadOnlyDictionary<string, string> VerdictsByStage()
    {
        var byStage = new Dictionary<string, string>(_verdicts.Count, StringComparer.Ordinal);
        foreach (var verdict in _verdicts)
        {
            byStage[verdict.Stage] = verdict.Verdict;
        }

        return byStage;
    }

    /// <summary>
    /// Carries over what stages that ran earlier, in another process, decided: a context rebuilt from plain values on the
    /// durable path (docs/design.md, "The stage contract") continues with their verdicts and refusal.
    /// </summary>
    public void Restore(IEnumerable<StageVerdict> verdicts, Refusal? refusal, string? refusedAt)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        _verdicts.AddRange(verdicts);
        Refusal = refusal;
        RefusedAt = refusal is null ? null : refusedAt;
    }

    /// <summary>Records what <paramref name="stage"/> decided (called by <see cref="StagePipeline{TContext}"/>).</summary>
    internal void Record(string stage, StageOutcome outcome, double elapsedMs)
    {
        _verdicts.Add(new StageVerdict(stage, outcome.Verdict, elapsedMs));
        if (outcome.Refusal is { } refusal)
        {
            Refusal = refusal;
            RefusedAt = stage;
        }
    }
}
