using ServerlessServe.Core.Defenses;

namespace ServerlessServe.Core.Policy;

/// <summary>
/// Feature squeezing (Xu, Evans, Qi, NDSS 2018): the inference app runs the model on the input and on each squeezed
/// copy in one batched call; a row's score is the largest L1 distance between the prediction vector of the input and
/// that of a squeezed copy, flagged above <see cref="Threshold"/> (chosen on clean data for a target false-positive
/// rate: <c>ssctl eval defenses</c> prints it).
/// </summary>
public sealed record SqueezePolicy
{
    public DefenseMode Mode { get; init; } = DefenseMode.Shadow;

    /// <summary>The input squeezed: FP32, shape [batch, features].</summary>
    public required string Input { get; init; }

    /// <summary>The output compared: FP32 prediction vectors, shape [batch, classes] (probabilities).</summary>
    public required string Output { get; init; }

    /// <summary>The largest value the input takes (its range is 0..this); bit-depth reduction works on that scale.</summary>
    public required double InputMax { get; init; }

    /// <summary>Height and width of the image a row holds, row-major; needed by median smoothing.</summary>
    public IReadOnlyList<int>? Image { get; init; }

    /// <summary>The squeezers, each one more copy of the input in the batch.</summary>
    public required IReadOnlyList<Squeezer> Squeezers { get; init; }

    /// <summary>The L1 distance above which a row is flagged.</summary>
    public required double Threshold { get; init; }
}
