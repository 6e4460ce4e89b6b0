using ServerlessServe.Core.Defenses;

namespace ServerlessServe.Core.Policy;

/// <summary>
/// Model-extraction detection per caller (PRADA, with volume and coverage signals; docs/defenses.md, "Model extraction
/// (PRADA)"): every row of <see cref="Input"/> is observed with the class the model predicted for it, read from
/// <see cref="Output"/>. The request that raises a signal is still answered; the alarm is a security event whose
/// action falls on the caller's later requests: none in shadow mode, <see cref="Action"/> in enforce mode.
/// </summary>
public sealed record ExtractionPolicy
{
    public DefenseMode Mode { get; init; } = DefenseMode.Shadow;

    /// <summary>The input observed: FP32, shape [batch, features].</summary>
    public required string Input { get; init; }

    /// <summary>
    /// The output that gives each row's predicted class: the arg-max of a floating-point scores output of shape
    /// [batch, classes], or the value of an integer label output of shape [batch] (or [batch, 1]).
    /// </summary>
    public required string Output { get; init; }

    /// <summary>What an alarm does in enforce mode. Default: <see cref="ExtractionAction.Default"/> (block for 1 hour).</summary>
    public ExtractionAction Action { get; init; } = ExtractionAction.Default;
}
