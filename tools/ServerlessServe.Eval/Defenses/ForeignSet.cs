namespace ServerlessServe.Eval.Defenses;

/// <summary>Inputs that are not handwritten digits but have the digits model's input shape (64 values in 0..16).</summary>
/// <param name="Name">Short name for tables.</param>
/// <param name="Description">What the rows are.</param>
/// <param name="Rows">The rows.</param>
internal sealed record ForeignSet(string Name, string Description, IReadOnlyList<float[]> Rows);
