using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Telemetry;

namespace ServerlessServe.Onnx;

/// <summary>
/// Dynamic batching (policy <c>batching</c>; docs/performance.md, "Dynamic batching"): concurrent requests for the same
/// loaded model version share one ONNX Runtime run, their inputs stacked along the first dimension and the outputs split
/// back by each request's rows. Only the run is shared: each request is checked on its own before it is queued, and gets
/// its own outputs, its own refusal or its own cancellation. A request the model cannot batch (a fixed first dimension,
/// inputs that disagree on their rows, as many rows as the cap or more) runs on its own, as without batching. One queue
/// per loaded model, held weakly by the model: it goes when the model does.
/// </summary>
internal sealed class DynamicBatcher
{
    private static readonly Histogram<long> BatchRows = TelemetryExtensions.Meter.CreateHistogram<long>(
        "serverlessserve.inference.batch.rows", unit: "{row}", description: "Rows in each ONNX Runtime run the batcher makes, by model.");

    private static readonly Histogram<long> PaddingRows = TelemetryExtensions.Meter.CreateHistogram<long>(
        "serverlessserve.inference.batch.padding", unit: "{row}", description: "Rows of zeros added to each ONNX Runtime run the batcher makes to reach a batch size it runs at, by model.");

    private static readonly Histogram<int> BatchRequests = TelemetryExtensions.Meter.CreateHistogram<int>(
        "serverlessserve.inference.batch.requests", unit: "{request}", description: "Requests sharing each ONNX Runtime run the batcher makes, by model.");

    private readonly ConditionalWeakTable<LoadedModel, BatchQueue> _queues = [];
    private readonly Lock _queuesGate = new();
    private int _paused;

    public DynamicBatcher(OnnxModelRunner runner, TimeProvider time, ILogger<DynamicBatcher> logger)
    {
        Runner = runner ?? throw new ArgumentNullException(nameof(runner));
        Time = time ?? throw new ArgumentNullException(nameof(time));
        Logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    internal OnnxModelRunner Runner { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger { get; }

    internal bool IsPaused => Volatile.Read(ref _paused) > 0;

    /// <summary>
    /// Batches of one model version that may run at once (<see cref="InferenceOptions.ConcurrentBatches"/>). Default 1.
    /// </summary>
    internal int ConcurrentBatches { get; init; } = 1;

    /// <summary>
    /// The most input bytes the requests of one run may have together (<see cref="InferenceOptions.MaxBatchBytes"/>);
    /// a request with as many or more runs on its own.
    /// </summary>
    internal long MaxBatchBytes { get; init; } = InferenceOptions.DefaultMaxBatchBytes;

    /// <summary>The sizes batches run at (<see cref="InferenceOptions.BatchPadding"/>).</summary>
    internal BatchPadding Padding { get; init; }

    /// <summary>
    /// Whether each batch loop runs its batches on a thread of its own (<see cref="RunThreads"/> of one) rather than on the
    /// thread-pool thread it started on; null (default): for models on CUDA only.
    /// </summary>
    internal bool? DedicatedThreads { get; init; }

    /// <summary>
    /// Called on the batcher's loop with the requests and rows of every run it makes, just before ONNX Runtime starts
    /// it (tests read batch sizes through it).
    /// </summary>
    internal Action<int, long>? OnRun { get; set; }

    /// <summary>
    /// Runs <paramref name="inputs"/> on <paramref name="model"/>, sharing the run with other requests queued for it as
    /// <paramref name="policy"/> allows (the first request for a loaded model fixes its queue's policy: a loaded model's
    /// policy never changes). <paramref name="outputNames"/> as in <see cref="OnnxModelRunner.RunAsync"/>.
    /// Throws <see cref="RefusedException"/> for this request's own inputs or data only.
    /// </summary>
    public Task<IReadOnlyList<Tensor>> RunAsync(
        LoadedModel model, BatchingPolicy policy, IReadOnlyList<Tensor> inputs, IReadOnlyList<string>? outputNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        OnnxModelRunner.CheckInputs(model.Session, inputs);
        var outputs = OnnxModelRunner.CheckOutputs(model.Session, outputNames);

        var queue = QueueFor(model, policy);
        // Batchable means every input has a first dimension (checked inputs have the model's rank).
        var rows = queue.Batchable && inputs.Count > 0 ? inputs[0].Shape[0] : 0;
        if (rows < 1 || rows >= queue.Policy.MaxBatchSize || inputs.Any(i => i.Shape[0] != rows) || BatchItem.InputBytes(inputs) >= MaxBatchBytes)
        {
            return Runner.RunAsync(model, inputs, outputNames, cancellationToken);
        }

        var ordered = inputs.OrderBy(i => i.Name, StringComparer.Ordinal).ToArray();
        return queue.Enqueue(new BatchItem(queue, ordered, outputs, rows, Time.GetTimestamp(), cancellationToken));
    }

    // The model's queue, built once. Not ConditionalWeakTable.GetValue: it may run the factory for several racing
    // callers and keep one, and a queue starts threads and a warm-up as it is built; the others' would be wasted (on
    // CUDA, each setting up its own GPU handles and workspace) and their threads never stopped.
    private BatchQueue QueueFor(LoadedModel model, BatchingPolicy policy)
    {
        if (_queues.TryGetValue(model, out var queue))
        {
            return queue;
        }

        lock (_queuesGate)
        {
            if (!_queues.TryGetValue(model, out queue))
            {
                queue = new BatchQueue(this, model, policy);
                _queues.Add(model, queue);
            }

            return queue;
        }
    }

    /// <summary>
    /// Holds every queue: requests queue but no run starts until the returned handle is disposed. Lets tests queue
    /// requests deterministically, without timing.
    /// </summary>
    internal IDisposable Pause()
    {
        Interlocked.Increment(ref _paused);
        return new Resume(this);
    }

    internal void Observe(LoadedModel model, int requests, long rows, long padding)
    {
        var tag = new KeyValuePair<string, object?>("model", model.Name);
        BatchRows.Record(rows, tag);
        BatchRequests.Record(requests, tag);
        PaddingRows.Record(padding, tag);
        OnRun?.Invoke(requests, rows);
    }

    /// <summary>
    /// The rows a run of <paramref name="rows"/> is padded to: with <see cref="BatchPadding.PowersOfTwo"/> the next power
    /// of two, but never past <paramref name="maxBatchSize"/> (itself a size runs are made at when it is not a power of
    /// two); with <see cref="BatchPadding.Maximum"/> the maximum; never below the rows.
    /// </summary>
    internal static long PaddedRows(long rows, long maxBatchSize, BatchPadding padding = BatchPadding.PowersOfTwo)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        if (padding == BatchPadding.None)
        {
            return rows;
        }

        if (padding == BatchPadding.Maximum)
        {
            return Math.Max(rows, maxBatchSize);
        }

        var padded = 1L;
        while (padded < rows)
        {
            padded <<= 1;
        }

        return Math.Max(rows, Math.Min(padded, maxBatchSize));
    }

    private sealed class Resume(DynamicBatcher batcher) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0 && Interlocked.Decrement(ref batcher._paused) == 0)
            {
                foreach (var (_, queue) in batcher._queues)
                {
                    queue.Kick();
                }
            }
        }
    }
}
