using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Jobs;

/// <summary>Limits and settings of the jobs API (<c>ServerlessServe:Jobs</c>).</summary>
public sealed class JobOptions
{
    public const string SectionName = "ServerlessServe:Jobs";

    /// <summary>Most items in one job. Default 1,000; more: 413.</summary>
    [Range(1, 100_000)]
    public int MaxItems { get; set; } = 1000;

    /// <summary>
    /// Most bytes in one job's request body. Default 16 MiB (the Functions host's own body limit,
    /// <c>FUNCTIONS_REQUEST_BODY_SIZE_LIMIT</c>, is set to match); more: 413. Each item is also held to the protocol's
    /// body limit on its own.
    /// </summary>
    [Range(1024, 1 << 30)]
    public int MaxJobBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Most jobs one caller may have pending or running at once. Default 10; one more: 429.</summary>
    [Range(1, 10_000)]
    public int MaxRunningJobsPerCaller { get; set; } = 10;

    /// <summary>
    /// How long a finished job's status and results stay readable. Default 1 day; after that the job answers 404 and
    /// the purge deletes its state and payloads.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan ResultRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Items per chunk: each activity call works on one chunk. Default 200: a 1,000-item job is 5 chunks, 20 activity
    /// calls (measured here: 50 items per chunk, 80 calls, ran at 83 items/s; 200, at 267 items/s).
    /// </summary>
    [Range(1, 1000)]
    public int ChunkSize { get; set; } = 200;

    /// <summary>
    /// How many of one job's chunks run at once; the next starts when one is audited. Default 2. One caller then has at
    /// most <see cref="MaxRunningJobsPerCaller"/> × this many chunk steps waiting or running in the task hub's shared
    /// activity queue (20 by default, the activity workers' own default on two cores), so another caller's step waits
    /// behind at most one round of them rather than behind every chunk of every job submitted before it. Taken into the job
    /// at submission: changing it does not touch jobs already running.
    /// </summary>
    [Range(1, 1000)]
    public int ChunksInFlight { get; set; } = 2;

    /// <summary>
    /// How many of a job's chunks run at once while it is alone: no other job is running on this instance (submitted
    /// here or stepping here, and not finished, cancelled or withdrawn; <see cref="JobTraffic"/>) or, as the traffic
    /// board tells, on another instance of the task hub (<see cref="JobTrafficBoard"/>). Default 5 (every
    /// chunk of a 1,000-item job). The window is decided again each time one of the job's chunks is audited, from what
    /// the audit step saw, so a job that another joins narrows to <see cref="ChunksInFlight"/> and the newcomer's first
    /// steps wait behind at most this many of its steps; one left alone widens. 0, or any value not above
    /// <see cref="ChunksInFlight"/>: never wider. Taken into the job at submission.
    /// </summary>
    [Range(0, 1000)]
    public int ChunksInFlightAlone { get; set; } = 5;

    /// <summary>
    /// How long a job that has not finished on this instance still counts as running after its last step started
    /// here: a job that failed, or whose last chunk was audited on another instance, stops counting after it. Default
    /// 1 minute, longer than a job's longest pause between steps (its inference retries wait at most 15 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan AloneAfter { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The table (in the app's storage) where each gateway instance that runs jobs posts which jobs it sees, and reads
    /// what the others post (<see cref="JobTrafficBoard"/>), so that a job's window is sized from the jobs on every
    /// instance, not only its own. One row per instance, in a partition per task hub. Default <c>jobtraffic</c>; empty:
    /// each instance sees only its own jobs (logged as a warning at start).
    /// </summary>
    [RegularExpression("^([A-Za-z][A-Za-z0-9]{2,62})?$")]
    public string TrafficTable { get; set; } = "jobtraffic";

    /// <summary>
    /// How often an instance that has jobs running posts its row and reads the others'. A row not posted again for
    /// three of these no longer counts (its instance stopped). A submission reads the board first when its copy is
    /// older than this. Default 2 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan TrafficInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The claim check's threshold: a chunk whose JSON is larger travels between steps as a blob reference with its
    /// SHA-256, never inline in orchestration history. Default 256 KiB.
    /// </summary>
    [Range(1024, 4 * 1024 * 1024)]
    public int InlinePayloadBytes { get; set; } = 256 * 1024;

    /// <summary>The container (in the app's storage) for payloads above the threshold. Default <c>job-payloads</c>.</summary>
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")]
    public string PayloadContainer { get; set; } = "job-payloads";

    /// <summary>
    /// How long a plain <c>/infer</c> of an <c>execution: orchestrated</c> model waits for its job before answering 202
    /// with the job's URL instead. Default 10 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:03:50")]
    public TimeSpan OrchestratedWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest a jobs request that asks to wait (<c>Prefer: wait=N</c>, RFC 7240) is held for its job to finish.
    /// Default 30 s; a larger N is cut to this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:03:00")]
    public TimeSpan MaxPreferWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many items of a chunk an activity works on at once (infer: requests in flight to the inference app).
    /// Default 16.
    /// </summary>
    [Range(1, 256)]
    public int InferConcurrency { get; set; } = 16;

    /// <summary>
    /// The longest the standalone backend waits between polls of an idle queue (it backs off up to this). Default 1 s:
    /// a job step waits at most about this long after idle; shorter costs more storage transactions while idle.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a dequeued orchestration or activity message stays invisible before another worker may take it (the
    /// running one renews it: `SidecarDispatch` standalone, the extension under the host). After a crash, the steps that were in flight resume after at most about this long.
    /// Default 30 s (the provider's own default is 5 minutes).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:10:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The standalone host's durable backend: <c>AzureStorage</c> (the default; state in the app's storage, so jobs
    /// survive a restart) or <c>InMemory</c> (state in this process only, lost when it stops: for benchmarks and
    /// trying things out; logged as a warning at start). The Functions host always uses its Durable extension.
    /// </summary>
    public JobBackend Backend { get; set; } = JobBackend.AzureStorage;

    /// <summary>
    /// The task hub's name (queues, tables and blobs of the durable backend share this prefix). Default
    /// <c>serverlessservejobs</c>.
    /// </summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    public string TaskHub { get; set; } = "serverlessservejobs";
}

/// <summary>Where the standalone host keeps orchestration state.</summary>
public enum JobBackend
{
    /// <summary>The Azure Storage provider on the app's storage (Azurite locally).</summary>
    AzureStorage,

    /// <summary>This process's memory: lost on restart. Benchmarks and development only.</summary>
    InMemory,
}
