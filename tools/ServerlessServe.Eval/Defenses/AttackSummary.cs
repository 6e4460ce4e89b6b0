namespace ServerlessServe.Eval.Defenses;

/// <summary>One attack at one budget on one split, judged by ONNX Runtime.</summary>
/// <param name="Attack">FGSM or BIM.</param>
/// <param name="Epsilon">L∞ budget on the normalised 0..1 scale (ε·16 pixel counts).</param>
/// <param name="Split">train or test.</param>
/// <param name="Rows">Rows attacked.</param>
/// <param name="CleanCorrect">Rows the model gets right before the attack.</param>
/// <param name="Successful">Of those, rows the model gets wrong after it: the successful adversarial examples.</param>
public sealed record AttackSummary(string Attack, double Epsilon, string Split, int Rows, int CleanCorrect, int Successful)
{
    /// <summary>Share of the correctly classified rows the attack fooled.</summary>
    public double SuccessRate => CleanCorrect == 0 ? 0 : Successful / (double)CleanCorrect;
}
