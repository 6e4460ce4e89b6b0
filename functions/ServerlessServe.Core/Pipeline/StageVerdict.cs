namespace ServerlessServe.Core.Pipeline;

/// <summary>One stage that ran, as the audit record and telemetry see it: its name, its verdict word and its time.</summary>
/// <param name="Stage">The stage's name, e.g. <c>validate</c>.</param>
/// <param name="Verdict"><c>pass</c>, or <c>refused:{kind}</c> (<see cref="Refusal.Verdict"/>).</param>
/// <param name="ElapsedMs">Wall time of the stage in milliseconds.</param>
public sealed record StageVerdict(string Stage, string Verdict, double ElapsedMs)
{
    /// <summary>The verdict of a stage that let the request through.</summary>
    public const string Pass = "pass";
}
