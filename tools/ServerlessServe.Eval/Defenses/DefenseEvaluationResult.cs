namespace ServerlessServe.Eval.Defenses;

/// <summary>What <see cref="DefenseEvaluation.Run"/> returns: the report and the curves behind it.</summary>
public sealed record DefenseEvaluationResult(DefenseReport Report, DefenseCurves Curves);
