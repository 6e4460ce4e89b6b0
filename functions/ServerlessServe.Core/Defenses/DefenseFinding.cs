namespace ServerlessServe.Core.Defenses;

/// <summary>
/// One defense's decision on one request, as the audit record keeps it: the highest score over the request's rows,
/// the threshold it was held to, the mode, and whether it flagged (score above threshold).
/// </summary>
/// <param name="Defense">The defense's name: <c>ood</c> or <c>squeeze</c>.</param>
/// <param name="Mode">Shadow (recorded only) or enforce (refused when flagged).</param>
/// <param name="Score">The largest row score of the request.</param>
/// <param name="Threshold">The threshold from the signed artifact or policy.</param>
public sealed record DefenseFinding(string Defense, DefenseMode Mode, double Score, double Threshold)
{
    /// <summary>True when the score is above the threshold (or not a number).</summary>
    public bool Flagged => !(Score <= Threshold);

    /// <summary>True when this finding stops the request.</summary>
    public bool Refuses => Flagged && Mode == DefenseMode.Enforce;

    /// <summary>The mode's wire name.</summary>
    public string ModeName => Mode == DefenseMode.Enforce ? "enforce" : "shadow";
}
