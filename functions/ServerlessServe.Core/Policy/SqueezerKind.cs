namespace ServerlessServe.Core.Policy;

/// <summary>The kinds of squeezer.</summary>
public enum SqueezerKind
{
    /// <summary>Bit-depth reduction: each value rounded to one of 2^bits levels over the input's range.</summary>
    BitDepth,

    /// <summary>Median smoothing over a square window of the image (edges replicated).</summary>
    Median,
}
