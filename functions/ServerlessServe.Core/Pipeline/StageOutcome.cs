namespace ServerlessServe.Core.Pipeline;

/// <summary>What a stage decided: pass (the request goes on), or a <see cref="Pipeline.Refusal"/> (it stops here).</summary>
public readonly record struct StageOutcome(Refusal? Refusal)
{
    /// <summary>The request goes on to the next stage.</summary>
    public static StageOutcome Pass => default;

    public bool Passed => Refusal is null;

    /// <summary>The request stops with <paramref name="refusal"/>.</summary>
    public static StageOutcome Refuse(Refusal refusal) => new(refusal ?? throw new ArgumentNullException(nameof(refusal)));

    public static implicit operator StageOutcome(Refusal refusal) => Refuse(refusal);

    /// <summary>The verdict word of this outcome: <c>pass</c>, or <see cref="Refusal.Verdict"/>.</summary>
    public string Verdict => Refusal?.Verdict ?? StageVerdict.Pass;
}
