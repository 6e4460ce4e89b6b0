namespace ServerlessServe.Eval.Defenses;

/// <summary>How many rows of one foreign set the out-of-distribution screen flags.</summary>
public sealed record ForeignSetResult(string Name, string Description, Rate Flagged);
