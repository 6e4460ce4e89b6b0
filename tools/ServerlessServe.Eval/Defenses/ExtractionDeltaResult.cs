using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Eval.Defenses;

/// <summary>The evaluation's callers with one δ (recomputed from their W, which does not depend on δ).</summary>
/// <param name="Name">Which δ: <c>default</c> or <c>recommended</c>.</param>
/// <param name="Delta">δ.</param>
/// <param name="FalseAlarms">Benign callers that raised any signal.</param>
/// <param name="TargetAttackersCaught">Synthetic-query attackers (random, Jacobian) flagged within the target.</param>
/// <param name="Outcomes">Every caller's first alarm and signals with this δ.</param>
/// <param name="TargetsMet">Every synthetic-query attacker flagged within the target and no false alarm.</param>
public sealed record ExtractionDeltaResult(
    string Name,
    double Delta,
    Rate FalseAlarms,
    Rate TargetAttackersCaught,
    IReadOnlyList<ExtractionOutcome> Outcomes,
    bool TargetsMet);

/// <summary>One caller's first alarm with a given δ.</summary>
/// <param name="Caller">The caller's name.</param>
/// <param name="Benign">Whether it is benign.</param>
/// <param name="FirstAlarm">The first query that raised any signal; null when none did.</param>
/// <param name="FirstSignals">The signals raised then.</param>
public sealed record ExtractionOutcome(string Caller, bool Benign, int? FirstAlarm, ExtractionSignals FirstSignals);
