namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// Successful adversarial examples of one attack on the test split stopped by each defense and by the two together
/// (the OOD screen, then squeezing, as the gateway runs them).
/// </summary>
/// <param name="Attack">FGSM or BIM.</param>
/// <param name="Epsilon">L∞ budget on the normalised scale.</param>
/// <param name="Ood">Flagged by the OOD screen.</param>
/// <param name="Squeeze">Flagged by the recommended squeezing.</param>
/// <param name="Either">Flagged by one or both: what the stack refuses with both enforcing.</param>
public sealed record LayeredDetection(string Attack, double Epsilon, Rate Ood, Rate Squeeze, Rate Either);
