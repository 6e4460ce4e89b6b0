using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Onnx;

/// <summary>ONNX Runtime session settings. Bound from <c>ServerlessServe:Inference</c>.</summary>
public sealed class InferenceOptions
{
    public const string SectionName = "ServerlessServe:Inference";

    /// <summary>Execution provider for new sessions. Default <see cref="Onnx.ExecutionProvider.Cpu"/>.</summary>
    public ExecutionProvider ExecutionProvider { get; set; } = ExecutionProvider.Cpu;

    /// <summary>
    /// With <see cref="Onnx.ExecutionProvider.Cuda"/>: whether a missing CUDA provider falls back to CPU (logged as a
    /// warning). Default false: fail closed, no model is served, and the error log says why.
    /// </summary>
    public bool AllowCpuFallback { get; set; }

    /// <summary>CUDA device ordinal. Default 0.</summary>
    [Range(0, 64)]
    public int CudaDeviceId { get; set; }

    /// <summary>Threads ONNX Runtime uses within one operator; 0 lets ONNX Runtime choose (one per physical core). Default 0.</summary>
    [Range(0, 256)]
    public int IntraOpNumThreads { get; set; }

    /// <summary>
    /// Whether ONNX Runtime's intra-op threads spin while they wait for work (<c>session.intra_op.allow_spinning</c>).
    /// Default false: on a small or shared machine (a serverless replica, two cores shared with the Functions host and
    /// the other requests) a spinning thread takes the CPU that concurrent requests need; spinning only pays on cores of
    /// its own (docs/performance.md).
    /// </summary>
    public bool AllowSpinning { get; set; }

    /// <summary>
    /// Whether models whose policy asks for dynamic batching (<c>batching</c>) get it. Default true. False runs every
    /// request on its own whatever the policies say: an operator's switch, for comparison or while investigating a
    /// model; logged at start when off.
    /// </summary>
    public bool DynamicBatching { get; set; } = true;

    /// <summary>
    /// Batches of one model version that may run at the same time. Default 2. One batch at a time leaves cores idle
    /// between ONNX Runtime's parallel sections: measured on ResNet18 on two cores, one batch at a time served 34-38
    /// images/s against 49-61 for unbatched concurrent runs (docs/performance.md). A request that finds fewer batches
    /// running than this starts one at once; the others queue and are batched.
    /// </summary>
    [Range(1, 64)]
    public int ConcurrentBatches { get; set; } = 2;

    /// <summary>
    /// Threads of the app's own that run requests for models on CUDA which are not batched (dynamic batching off, or a
    /// request the batcher passes on), taking them from one queue. Default 4; 0 runs each on the request's own thread.
    /// ONNX Runtime's CUDA provider sets up cuBLAS and cuDNN handles, with their GPU workspaces, for every thread that
    /// runs a model, the first time it does. On the request's own thread that is paid again for every thread the .NET
    /// thread pool adds or replaces, and a set of handles is held for each. With threads of its own the app pays it once
    /// per thread and holds at most this many sets. It also bounds the CUDA runs of unbatched requests in flight at once;
    /// the GPU runs one model's kernels in turn anyway. Models on the CPU always run on the request's thread
    /// (docs/performance.md, "CUDA runs on threads of their own").
    /// </summary>
    [Range(0, 64)]
    public int CudaRunThreads { get; set; } = 4;

    /// <summary>
    /// The sizes batches run at (<see cref="Onnx.BatchPadding"/>), padded with rows of zeros that are never returned to
    /// anyone. Default <see cref="BatchPadding.Auto"/>: powers of two (capped at the policy's maximum) with
    /// <see cref="Onnx.ExecutionProvider.Cuda"/>, exact sizes on the CPU, where a padded row costs as much as a real one.
    /// On CUDA a new input shape is costly: cuDNN's algorithm search the first time (ResNet18 on an H200: 712-729 ms for
    /// the six sizes up to 32, paid by a warm-up before the first batch), and a change of shape between runs makes ONNX
    /// Runtime's convolutions set themselves up again. <see cref="BatchPadding.Maximum"/> runs one shape only
    /// (docs/performance.md, "The GPU check").
    /// </summary>
    public BatchPadding BatchPadding { get; set; }

    /// <summary>
    /// The most model bytes (the sizes of the loaded versions' ONNX files) whose sessions the app keeps; past it, the
    /// versions asked for least recently are unloaded, each once its runs have ended, and loaded again when asked for.
    /// A session takes about its model's size again in memory, and the verified bytes are kept for re-attestation, so
    /// the app holds roughly twice this. Default 1 GiB. Without a bound, a caller pinning each of a model's stored
    /// versions in turn made the app load them all, until it ran out of memory for every caller. The version just
    /// loaded always stays, even when it alone is larger.
    /// </summary>
    [Range(1L, long.MaxValue)]
    public long MaxLoadedModelBytes { get; set; } = 1L << 30;

    /// <summary>Default of <see cref="MaxBatchBytes"/>: 64 MiB.</summary>
    public const long DefaultMaxBatchBytes = 64L << 20;

    /// <summary>
    /// The most input bytes the requests sharing one batched run may have together, before any padding: a run stacks a
    /// copy of them all. A request of as many bytes or more runs on its own; the warm-up runs only the sizes a batch can
    /// reach. Default 64 MiB (ResNet18 at 32 images: 18.4 MiB). Without it a policy's <c>maxBatchSize</c> of large rows
    /// (1,024 rows of 1 MiB) stacked a GiB at once.
    /// </summary>
    [Range(1L << 20, long.MaxValue)]
    public long MaxBatchBytes { get; set; } = DefaultMaxBatchBytes;

    /// <summary>
    /// Bytes of request bodies the app holds at once, each counted before it is read (a binary body its length, a JSON
    /// body its length and what its numbers can decode to); past it a request is refused 503 with <c>Retry-After</c>,
    /// which the gateway passes on to its caller. A request arriving with nothing else counted is always let in.
    /// Default 1 GiB: each gateway instance bounds its own callers' bodies, but the bodies of every instance's requests
    /// meet here.
    /// </summary>
    [Range(1L << 20, long.MaxValue)]
    public long BodyBytesInFlight { get; set; } = 1L << 30;

    /// <summary>
    /// How long one model load may take, its bytes fetched from the store and its session made. Loads run one at a time
    /// on an instance, so a download that trickles would otherwise hold every other version's first load behind it;
    /// past it the load fails (503 "model store unavailable", tried again by the next request). Default 5 minutes;
    /// 10 seconds to 1 hour.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan ModelLoadTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
