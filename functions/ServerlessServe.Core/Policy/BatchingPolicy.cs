namespace ServerlessServe.Core.Policy;

/// <summary>
/// Dynamic batching on the inference app (<c>batching</c> in <c>policy.json</c>): concurrent requests for this model
/// version share one ONNX Runtime run of at most <see cref="MaxBatchSize"/> rows, each request's rows split back to it
/// (docs/performance.md, "Dynamic batching"). Absent: every request runs on its own.
/// </summary>
public sealed record BatchingPolicy
{
    /// <summary>Fewest rows a batch may be capped at: 2 (a cap of 1 would be no batching).</summary>
    public const int MinMaxBatchSize = 2;

    /// <summary>Most rows a batch may be capped at: 1024.</summary>
    public const int MaxMaxBatchSize = 1024;

    /// <summary>Longest accepted <see cref="MaxQueueDelay"/>: 100 ms.</summary>
    public static TimeSpan MaxMaxQueueDelay { get; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Most rows (first-dimension entries, summed over the requests) in one run; 2..1024.</summary>
    public required int MaxBatchSize { get; init; }

    /// <summary>
    /// How long a batch formed behind a busy run may wait, from its oldest request's arrival, for more requests before
    /// it runs (ISO 8601 duration, 0 to 100 ms). Default zero: a batch takes what queued while the previous run was busy
    /// and runs at once. A request reaching an idle model never waits.
    /// </summary>
    public TimeSpan MaxQueueDelay { get; init; } = TimeSpan.Zero;
}
