namespace ServerlessServe.Core.Defenses;

/// <summary>
/// One defense's decision on one request, as the audit record keeps it: the highest score over the request's rows,
/// the threshold it was held to, the mode, and whether it flagged (by default: score above threshold).
/// </summary>
/// <param name="Defense">The defense's name: <c>ood</c>, <c>squeeze</c> or <c>extraction</c>.</param>
/// <param name="Mode">Shadow (recorded only) or enforce (refused when flagged, for a defense that refuses requests).</param>
/// <param name="Score">The largest row score of the request (extraction: the caller's latest W; NaN before it has one).</param>
/// <param name="Threshold">The threshold from the signed artifact or policy (extraction: δ).</param>
public sealed record DefenseFinding(string Defense, DefenseMode Mode, double Score, double Threshold)
{
    /// <summary>
    /// True when the score is above the threshold (or not a number), unless the defense sets it otherwise (extraction:
    /// a signal has been raised for the caller).
    /// </summary>
    public bool Flagged { get; init; } = !(Score <= Threshold);

    /// <summary>
    /// True (the default) when a flag in enforce mode refuses this request; false for a defense whose alarm acts on the
    /// caller's later requests instead (extraction raises a security event).
    /// </summary>
    public bool RefusesRequest { get; init; } = true;

    /// <summary>True when this finding stops the request.</summary>
    public bool Refuses => Flagged && Mode == DefenseMode.Enforce && RefusesRequest;

    /// <summary>The mode's wire name.</summary>
    public string ModeName => Mode == DefenseMode.Enforce ? "enforce" : "shadow";
}
