using ServerlessServe.Eval.Attacks;

namespace ServerlessServe.Eval.Defenses;

/// <summary>One attack at one budget run over one split, every row's result kept.</summary>
internal sealed record AdversarialSet(string Attack, double Epsilon, string Split, IReadOnlyList<AttackResult> Results)
{
    /// <summary>The adversarial rows of the successful examples only (clean prediction right, adversarial wrong).</summary>
    public IReadOnlyList<float[]> Successful { get; } = Results.Where(r => r.Succeeded).Select(r => r.Adversarial).ToArray();

    /// <summary>Name for curves and tables, for example <c>BIM ε=0.1</c>.</summary>
    public string Name => FormattableString.Invariant($"{Attack} ε={Epsilon}");

    public AttackSummary Summary() => new(Attack, Epsilon, Split, Results.Count, Results.Count(r => r.CleanCorrect), Successful.Count);
}
