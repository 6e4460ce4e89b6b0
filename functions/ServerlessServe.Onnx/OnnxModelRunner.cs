using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Onnx;

/// <summary>
/// Runs a <see cref="LoadedModel"/> on protocol tensors. Inputs are checked against the session's metadata (names, all
/// present, datatype, rank and fixed dimensions, element count) before ONNX Runtime sees them; errors ONNX Runtime raises
/// for the data itself (for example a Gather index out of range) become an invalid refusal, "inference failed for the given input"
/// that quotes nothing. Cancellation terminates the run.
/// </summary>
public sealed class OnnxModelRunner
{
    private readonly ILogger _logger;

    public OnnxModelRunner(ILogger<OnnxModelRunner> logger)
    {
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>
    /// Where runs of models on CUDA happen: null (the default) on the calling thread; otherwise on these threads of
    /// their own (<see cref="InferenceOptions.CudaRunThreads"/>). The batcher's loops have threads of their own already
    /// and run through <see cref="RunHere"/>.
    /// </summary>
    internal RunThreads? CudaRunThreads { get; init; }

    /// <summary>Tests: <see cref="CudaRunThreads"/> takes the runs of every model, whatever its execution provider.</summary>
    internal bool RunThreadsForEveryProvider { get; init; }

    /// <summary>
    /// Runs the model. <paramref name="outputNames"/> null returns every output in the model's order; otherwise the named
    /// outputs in the order asked. Inputs that do not fit the model are refused before any run is queued.
    /// </summary>
    public Task<IReadOnlyList<Tensor>> RunAsync(
        LoadedModel model, IReadOnlyList<Tensor> inputs, IReadOnlyList<string>? outputNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        CheckInputs(model.Session, inputs);
        var outputs = CheckOutputs(model.Session, outputNames);
        if (CudaRunThreads is { } threads && (RunThreadsForEveryProvider || model.ExecutionProvider == ExecutionProvider.Cuda))
        {
            return RunOnThreadsAsync(threads, model, inputs, outputs, cancellationToken);
        }

        return Task.FromResult<IReadOnlyList<Tensor>>(RunChecked(model, inputs, outputs, cancellationToken));
    }

    /// <summary>As <see cref="RunAsync"/>, on the calling thread whatever <see cref="CudaRunThreads"/> says (a batch loop's own thread).</summary>
    internal IReadOnlyList<Tensor> RunHere(
        LoadedModel model, IReadOnlyList<Tensor> inputs, IReadOnlyList<string>? outputNames, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        cancellationToken.ThrowIfCancellationRequested();
        CheckInputs(model.Session, inputs);
        return RunChecked(model, inputs, CheckOutputs(model.Session, outputNames), cancellationToken);
    }

    // A run cancelled while it waits in the queue never starts, and the caller has its cancellation at once. A run that
    // has started reads the caller's tensors where they lie, so the caller waits for its end; cancellation terminates it.
    private async Task<IReadOnlyList<Tensor>> RunOnThreadsAsync(
        RunThreads threads, LoadedModel model, IReadOnlyList<Tensor> inputs, string[] outputs, CancellationToken cancellationToken)
    {
        IReadOnlyList<Tensor>? result = null;
        await threads.RunAsync(() => result = RunChecked(model, inputs, outputs, cancellationToken), cancellationToken).ConfigureAwait(false);
        return result!;
    }

    private List<Tensor> RunChecked(LoadedModel model, IReadOnlyList<Tensor> inputs, string[] outputs, CancellationToken cancellationToken)
    {
        var values = new List<OrtValue>(inputs.Count);
        try
        {
            // Each input read where it lies (pinned, not copied): the request owns its tensors and nothing changes them
            // during the run.
            foreach (var input in inputs)
            {
                values.Add(OrtTensors.Pin(input));
            }

            using var results = Run(model, inputs.Select(i => i.Name).ToArray(), values, outputs, cancellationToken);
            var tensors = new List<Tensor>(outputs.Length);
            for (var i = 0; i < outputs.Length; i++)
            {
                tensors.Add(OrtTensors.FromOrtValue(outputs[i], results[i]));
            }

            return tensors;
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>
    /// One ONNX Runtime run on values already checked and converted; the caller disposes the results. An error ONNX
    /// Runtime raises becomes a sanitised <see cref="RefusedException"/> (or <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> ended the run).
    /// </summary>
    internal IDisposableReadOnlyCollection<OrtValue> Run(
        LoadedModel model, string[] inputNames, IReadOnlyCollection<OrtValue> values, string[] outputs, CancellationToken cancellationToken)
    {
        // The run and its outputs hold a use of the session, so the cache's eviction never disposes it under them.
        if (!model.TryEnter())
        {
            throw new RefusedException(Unloaded);
        }

        using var runOptions = new RunOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
        try
        {
            return new HeldResults(model, model.Session.Run(runOptions, inputNames, values, outputs));
        }
        catch (OnnxRuntimeException ex)
        {
            model.Exit();
            cancellationToken.ThrowIfCancellationRequested();
            var category = Category(ex);
            var refusal = RunFailure(category, ex.Message);
            Log.RunFailed(_logger, model.Name, model.ModelVersion, IsOutOfResources(ex.Message) ? category + " (out of resources)" : category);
            throw new RefusedException(refusal);
        }
        catch
        {
            model.Exit();
            throw;
        }
    }

    /// <summary>A run's outputs, which give back the run's use of the session when disposed.</summary>
    private sealed class HeldResults(LoadedModel model, IDisposableReadOnlyCollection<OrtValue> results) : IDisposableReadOnlyCollection<OrtValue>
    {
        private int _disposed;

        public int Count => results.Count;

        public OrtValue this[int index] => results[index];

        public IEnumerator<OrtValue> GetEnumerator() => results.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                results.Dispose();
                model.Exit();
            }
        }
    }

    /// <summary>Refuses inputs that do not fit the session's metadata (names, all present, datatype, rank, fixed dimensions, element count).</summary>
    internal static void CheckInputs(InferenceSession session, IReadOnlyList<Tensor> inputs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (!session.InputMetadata.TryGetValue(input.Name, out var metadata))
            {
                throw RefusedException.Invalid("unknown input");
            }

            if (!seen.Add(input.Name))
            {
                throw RefusedException.Invalid("duplicate input");
            }

            if (!metadata.IsTensor || OrtTensors.ToDataType(metadata.ElementDataType) != input.DataType)
            {
                throw RefusedException.Invalid("input datatype does not match the model");
            }

            var dims = metadata.Dimensions;
            if (dims.Length != input.Shape.Length)
            {
                throw RefusedException.Invalid("input shape does not match the model");
            }

            for (var d = 0; d < dims.Length; d++)
            {
                if (input.Shape[d] < 0 || (dims[d] > 0 && dims[d] != input.Shape[d]))
                {
                    throw RefusedException.Invalid("input shape does not match the model");
                }
            }

            if (Tensor.ShapeElementCount(input.Shape) != input.ElementCount)
            {
                throw RefusedException.Invalid("input data does not match its shape");
            }
        }

        if (session.InputMetadata.Keys.Any(name => !seen.Contains(name)))
        {
            throw RefusedException.Invalid("missing input");
        }
    }

    /// <summary>The output names to run: every output in the model's order when none are named, else the named ones, each known and once.</summary>
    internal static string[] CheckOutputs(InferenceSession session, IReadOnlyList<string>? outputNames)
    {
        if (outputNames is null || outputNames.Count == 0)
        {
            return session.OutputNames.ToArray();
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in outputNames)
        {
            if (!session.OutputMetadata.ContainsKey(name))
            {
                throw RefusedException.Invalid("unknown output");
            }

            if (!seen.Add(name))
            {
                throw RefusedException.Invalid("duplicate output");
            }
        }

        return outputNames.ToArray();
    }

    /// <summary>
    /// What a run that ONNX Runtime failed with error code <paramref name="category"/> answers. <c>InvalidArgument</c>,
    /// <c>RuntimeException</c> and <c>Fail</c> are what a kernel raises on values it cannot compute (an index out of
    /// range, a shape a reshape cannot take): 400, the caller's input. The native <c>ORT_EP_FAIL</c> (11), which the
    /// managed package still names <c>ShapeInferenceNotRegistered</c>, is the execution provider failing (a GPU out of
    /// memory or lost): 503, which the gateway retries and counts toward the model's breaker, since another try or
    /// replica may succeed. Anything else (<c>NotImplemented</c>, <c>EngineError</c>, a code this build does not
    /// know) is the model's own failing, the same on every try: 503 scoped to the version, which the gateway neither
    /// retries nor counts, so a caller that can make one model fail again and again costs one run a request and cannot
    /// open the model's breaker for its other callers.
    /// </summary>
    /// <remarks>
    /// The CUDA provider does not fail with <c>ORT_EP_FAIL</c>: ONNX Runtime's executor turns what a kernel throws (the
    /// arena's "Failed to allocate memory", a failed <c>cudaMalloc</c>, <c>std::bad_alloc</c>, a CUDA, cuDNN or cuBLAS
    /// error) into <c>RuntimeException</c> or <c>Fail</c>. So a run that fails for want of memory or of the device, told by
    /// fixed markers in <paramref name="message"/> (matched, never echoed), is not the caller's input: 503
    /// <c>inference unavailable</c> with <c>Retry-After: 1</c>, scoped to the version, so that the gateway neither retries
    /// it nor counts it toward the breaker. An allocation can be sized by the caller's values (a shape read from an
    /// input), and retried and counted it would let one caller open the model's breaker for all. Before 2026-12-07 these
    /// were 400 "for the given input", which callers do not retry.
    /// </remarks>
    internal static Refusal RunFailure(string category, string? message = null) => category switch
    {
        _ when message is not null && IsOutOfResources(message) => OutOfResources,
        "InvalidArgument" or "RuntimeException" or "Fail" => Refusal.Invalid("inference failed for the given input"),
        "ShapeInferenceNotRegistered" => Refusal.Unavailable("inference failed"),
        _ => Refusal.Unavailable("inference failed") with { VersionScoped = true },
    };

    /// <summary>Why a run found its model unloaded (<see cref="Unloaded"/>).</summary>
    internal const string UnloadedReason = "unloaded";

    /// <summary>
    /// A run whose model was unloaded after the request resolved it (the memory budget chose it, or it failed
    /// re-attestation) while the request waited, in a batch queue or for a run thread: the infer stage resolves the
    /// version again and runs once more (<c>RunModel</c>), so the caller does not get a 503 for the cache's choice.
    /// </summary>
    internal static Refusal Unloaded { get; } = Refusal.Unavailable("inference unavailable") with { Reason = UnloadedReason };

    /// <summary>A run or a load that failed for want of memory or of the device: 503, scoped to the version, Retry-After 1.</summary>
    /// <summary>
    /// The app holds as many request bodies as it may (<see cref="InferenceOptions.BodyBytesInFlight"/>): scoped to the
    /// version on the wire, so that the gateway neither retries it nor counts it toward its breaker, and marked busy
    /// (<see cref="ServerlessServe.Hosting.Http.V2Results.BusyHeader"/>), so that it passes it on as the service busy.
    /// </summary>
    internal static Refusal Busy { get; } = Refusal.Unavailable("inference busy") with
    {
        VersionScoped = true,
        RetryAfter = TimeSpan.FromSeconds(1),
        Reason = ServerlessServe.Hosting.Http.V2Results.BusyReason,
    };

    internal static Refusal OutOfResources { get; } = Refusal.Unavailable("inference unavailable") with { VersionScoped = true, RetryAfter = TimeSpan.FromSeconds(1) };

    private static readonly string[] OutOfResourcesMarkers =
    [
        "Failed to allocate memory", "bad_alloc", "out of memory", "CUDA failure", "CUDA error", "CUDNN failure", "CUBLAS failure",
    ];

    /// <summary>Whether an ONNX Runtime error message tells of memory or the device running out (markers only).</summary>
    internal static bool IsOutOfResources(string message) =>
        OutOfResourcesMarkers.Any(m => message.Contains(m, StringComparison.OrdinalIgnoreCase));

    /// <summary>The error code ONNX Runtime puts at the start of its message (<c>[ErrorCode:X] ...</c>); never the rest.</summary>
    private static string Category(OnnxRuntimeException ex)
    {
        const string prefix = "[ErrorCode:";
        var message = ex.Message;
        if (message.StartsWith(prefix, StringComparison.Ordinal))
        {
            var end = message.IndexOf(']', StringComparison.Ordinal);
            if (end > prefix.Length)
            {
                return message[prefix.Length..end];
            }
        }

        return "Unknown";
    }
}
