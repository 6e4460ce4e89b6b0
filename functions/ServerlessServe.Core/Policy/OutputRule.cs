namespace ServerlessServe.Core.Policy;

/// <summary>Hardening of one model output (see <see cref="OutputMode"/>).</summary>
public sealed record OutputRule
{
    public OutputMode Mode { get; init; } = OutputMode.Scores;

    /// <summary>k for <see cref="OutputMode.TopK"/>.</summary>
    public int? K { get; init; }

    /// <summary>Decimal digits kept in returned scores; null keeps full precision (only if the policy says so explicitly).</summary>
    public int? Round { get; init; }

    /// <summary>Class labels by index, for <see cref="OutputMode.TopK"/> and <see cref="OutputMode.Label"/>.</summary>
    public IReadOnlyList<string>? Labels { get; init; }
}
