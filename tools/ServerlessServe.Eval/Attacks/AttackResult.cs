namespace ServerlessServe.Eval.Attacks;

/// <summary>
/// One attacked row: where it was in the attacked set, its true label, the original and adversarial rows, and what the
/// judging classifier predicted for each.
/// </summary>
public sealed record AttackResult(int Index, int Label, float[] Original, int CleanPrediction, float[] Adversarial, int AdversarialPrediction)
{
    /// <summary>The classifier got the original row right.</summary>
    public bool CleanCorrect => CleanPrediction == Label;

    /// <summary>The attack turned a correct prediction into a wrong one.</summary>
    public bool Succeeded => CleanCorrect && AdversarialPrediction != Label;

    /// <summary>The largest change of any element (L∞ distance), in input units.</summary>
    public float LInfinity()
    {
        var max = 0f;
        for (var i = 0; i < Original.Length; i++)
        {
            max = MathF.Max(max, MathF.Abs(Adversarial[i] - Original[i]));
        }

        return max;
    }
}
