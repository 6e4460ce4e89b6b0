namespace ServerlessServe.Core.Policy;

/// <summary>One squeezer: <c>bitDepth</c> (keep <see cref="Bits"/> bits of the value) or <c>median</c> (a <see cref="Size"/>×<see cref="Size"/> median filter over the image).</summary>
public sealed record Squeezer
{
    public required SqueezerKind Kind { get; init; }

    /// <summary>Bits kept, 1..8, for <c>bitDepth</c>.</summary>
    public int? Bits { get; init; }

    /// <summary>Window side, 2..5, for <c>median</c>.</summary>
    public int? Size { get; init; }
}
