namespace ServerlessServe.Eval.Defenses;

/// <summary>
/// What the defenses cost on this machine, measured with a stopwatch (medians; figures only, never asserted).
/// </summary>
/// <param name="MahalanobisRows">Rows per timed pass of the screen.</param>
/// <param name="MahalanobisPasses">Timed passes.</param>
/// <param name="MahalanobisMicrosecondsPerRow">Median over passes of a pass's time per row, µs.</param>
/// <param name="OnnxRuns">Timed runs of each kind.</param>
/// <param name="Squeezers">The squeeze configuration timed.</param>
/// <param name="OnnxRowMicroseconds">Median time of one ONNX Runtime run on one row, µs.</param>
/// <param name="OnnxSqueezedMicroseconds">Median time of the squeezed request's work on one row: batch, one run on the row and its copies, scores, µs.</param>
/// <param name="Optimized">Whether the Core code timed was built with JIT optimisations (a Release build); a Debug build is several times slower.</param>
public sealed record CostReport(
    int MahalanobisRows,
    int MahalanobisPasses,
    double MahalanobisMicrosecondsPerRow,
    int OnnxRuns,
    string Squeezers,
    double OnnxRowMicroseconds,
    double OnnxSqueezedMicroseconds,
    bool Optimized)
{
    /// <summary>What squeezing adds to a single-row request, µs (difference of the medians).</summary>
    public double SqueezeExtraMicroseconds => OnnxSqueezedMicroseconds - OnnxRowMicroseconds;
}
