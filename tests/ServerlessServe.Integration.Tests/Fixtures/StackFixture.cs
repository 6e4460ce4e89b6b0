using System.Net.Http.Headers;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using ServerlessServe.Local;
using ServerlessServe.Local.Samples;
using Xunit.Abstractions;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>
/// One local stack for the whole test run: a real Azurite on free ports in a temporary folder, the signed sample
/// models, and the inference app and gateway as real processes on loopback, under this lane's host
/// (<see cref="Lane"/>). Everything is stopped on dispose.
/// </summary>
public sealed class StackFixture : IAsyncLifetime
{
    // CI runs every test project at once on two cores: publishing the samples (ResNet18 included) and starting three
    // Functions hosts took 3.5-4 minutes there, so the stack gets twice that before the lane gives up.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(8);
    private readonly List<IAsyncDisposable> _resources = [];

    public LocalStack Stack { get; private set; } = null!;

    public LocalState State { get; }

    public string RepositoryRoot { get; }

    public string BuildConfiguration { get; }

    public HttpClient Gateway { get; private set; } = null!;

    private readonly SemaphoreSlim _extraPairsGate = new(1, 1);
    private readonly Dictionary<string, AppPair> _extraPairs = new(StringComparer.Ordinal);

    /// <summary>The stack gateway's least interval between two metadata refreshes asked for by unknown key ids.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);

    /// <summary>The stack gateway's limit of running jobs per caller.</summary>
    public const int MaxRunningJobsPerCaller = 3;

    /// <summary>The stack gateway's limit of bytes per job (the 1 MB claim-check item fits).</summary>
    public const int MaxJobBytes = 4 * 1024 * 1024;

    public string CallerToken { get; private set; } = "";

    /// <summary>The inference app's <c>HOME</c> (in this run's state folder).</summary>
    public string InferenceHome => Path.Combine(State.Directory, "inference-home");

    public BlobServiceClient Blobs { get; private set; } = null!;

    private readonly IMessageSink _diagnostics;

    public StackFixture(IMessageSink diagnostics)
    {
        _diagnostics = diagnostics;
        RepositoryRoot = TestBuild.RepositoryRoot;
        BuildConfiguration = TestBuild.BuildConfiguration;
        State = new LocalState(Path.Combine(Path.GetTempPath(), "serverlessserve-it-" + Guid.NewGuid().ToString("N")[..8]));
        CreatedSource.TrySetResult();
    }

    /// <summary>SERVERLESSSERVE_KEEP_TEST_STATE=1: the run's state folder, Azurite's data on disk included, is kept.</summary>
    public static bool KeepState => Environment.GetEnvironmentVariable("SERVERLESSSERVE_KEEP_TEST_STATE") == "1";

    /// <summary>Which host runs the apps in this lane.</summary>
    public AppHost Host => Lane.Host;

    /// <summary>
    /// Completes once this run's stack has started or failed to (or at once when the lane cannot run), or after
    /// <paramref name="noStackWithin"/> when no stack fixture was created by then (a run of tests that need none). A
    /// test of another collection that starts processes of its own waits for it, so as not to slow the start that every
    /// stack test waits on; xunit creates the fixture as the stack collection starts, beside the other collections.
    /// </summary>
    public static async Task WaitForStartAsync(TimeSpan noStackWithin)
    {
        if (await Task.WhenAny(CreatedSource.Task, Task.Delay(noStackWithin)) == CreatedSource.Task)
        {
            await StartAttemptedSource.Task;
        }
    }

    /// <summary>
    /// Completes once the stack tests have reached their last part, the jobs tests (<see cref="MarkJobsReached"/>), or
    /// have ended, or at once when no stack runs (as <see cref="WaitForStartAsync"/>). A test of another collection whose
    /// work is heavy but not urgent waits for it: in CI the stack tests' first ten minutes share the two cores with every
    /// other test project, and their last minutes, mostly jobs waiting on durable timers and leases, leave the machine
    /// partly idle (docs/design.md, "Tests").
    /// </summary>
    public static async Task WaitForJobsAsync(TimeSpan noStackWithin)
    {
        await WaitForStartAsync(noStackWithin);
        if (CreatedSource.Task.IsCompleted)
        {
            await JobsReachedSource.Task;
        }
    }

    /// <summary>Called as the jobs tests start (<see cref="WaitForJobsAsync"/>).</summary>
    public static void MarkJobsReached() => JobsReachedSource.TrySetResult();

    private static readonly TaskCompletionSource JobsReachedSource = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static readonly TaskCompletionSource CreatedSource = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static readonly TaskCompletionSource StartAttemptedSource = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        finally
        {
            StartAttemptedSource.TrySetResult();
        }
    }

    private async Task StartAsync()
    {
        if (Lane.SkipReason is not null)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(StartTimeout);
        var options = new LocalStackOptions
        {
            RepositoryRoot = RepositoryRoot,
            State = State,
            GatewayPort = 0,
            InferencePort = 0,
            AdminPort = 0,
            IssuerPort = 0,
            BlobPort = 0,
            QueuePort = 0,
            TablePort = 0,

            // Nothing restarts this Azurite, and in memory a write costs it about 40 % less CPU (docs/design.md). A run that
            // keeps its state to be looked at afterwards keeps Azurite's data on disk too.
            AzuritePersistence = KeepState ? AzuritePersistence.Disk : AzuritePersistence.Memory,
            BuildApps = false,
            ReadyTimeout = TimeSpan.FromMinutes(5),
            ReportUnaskedExits = true,
            BuildConfiguration = BuildConfiguration,
            Host = Lane.Host,
            FunctionsHost = Lane.FunctionsHost(RepositoryRoot),
        };

        // New versions are seen at once (no stale-while-revalidate: the next request after 50 ms reads the listing again),
        // and failed ones retried quickly, so integrity tests need no waiting.
        foreach (var settings in new[] { options.GatewaySettings, options.InferenceSettings })
        {
            settings["ServerlessServe:ModelCatalog:LatestCacheTtl"] = "00:00:00.050";
            settings["ServerlessServe:ModelCatalog:ListingMaxStale"] = "00:00:00";
            settings["ServerlessServe:ModelCatalog:FailedVersionRetryAfter"] = "00:00:01";
        }

        options.GatewaySettings["ServerlessServe:Audit:CheckpointEvery"] = "5";

        // Rate-limited requests past each caller's first in an interval are summarised every 2 s (1 minute by default), so
        // a test sees the summary records without waiting a minute.
        options.GatewaySettings["ServerlessServe:Limits:RefusalSummaryInterval"] = "00:00:02";

        // The inference app's home is a folder of this run's own, and the environment asks for ONNX Runtime's telemetry:
        // the app must turn it off itself, and would leave its files in that home if it did not (OnnxRuntimeTelemetryTests).
        options.InferenceSettings["HOME"] = InferenceHome;
        options.InferenceSettings["ORT_DISABLE_TELEMETRY"] = "0";

        // An unknown key id may refresh the issuer's metadata every 2 s (5 min by default), so the key-rotation test
        // does not wait minutes after the negative suite's unknown-kid cases.
        options.GatewaySettings["ServerlessServe:Identity:RefreshInterval"] = RefreshInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

        // Job limits small enough to reach in a test (JobLimitsTests); every other test stays well inside them.
        options.GatewaySettings["ServerlessServe:Jobs:MaxRunningJobsPerCaller"] = MaxRunningJobsPerCaller.ToString(System.Globalization.CultureInfo.InvariantCulture);
        options.GatewaySettings["ServerlessServe:Jobs:MaxJobBytes"] = MaxJobBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Stack = await LocalStack.StartAsync(
            options,
            (connectionString, ct) => SamplePublisher.PublishAllAsync(State, connectionString, includeResNet: true, progress: null, ct),
            new DiagnosticProgress(_diagnostics),
            timeout.Token);
        Blobs = new BlobServiceClient(Stack.Azurite.ConnectionString);
        CallerToken = MintCallerToken("integration-tests");
        Gateway = new HttpClient { BaseAddress = Stack.GatewayBaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        Gateway.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CallerToken);
    }

    /// <summary>Stops <paramref name="resource"/> (e.g. another app pair a test started) before the stack.</summary>
    public void OnDispose(IAsyncDisposable resource) => _resources.Add(resource);

    /// <summary>
    /// Another app pair on this stack's storage and models (<see cref="LocalStack.StartAnotherPairAsync"/>), one per
    /// <paramref name="logPrefix"/>. At most one such pair runs at a time: asking for another stops the one running
    /// (its state stays in storage; asked for again, it starts again on new ports), and the last is stopped before the
    /// stack. An idle pair is not free: its gateway polls its own job task hub several times a second, and the pairs a
    /// run used to keep until its end cost about 117 of its roughly 1,800 CPU-seconds on two shared cores (docs/design.md,
    /// "Idle app pairs cost CPU too"). The tests of a collection run one at a time, so no test holds a pair that another
    /// stops.
    /// </summary>
    public async Task<AppPair> ExtraPairAsync(string logPrefix, AppHost host, IReadOnlyDictionary<string, string> gatewaySettings)
    {
        await _extraPairsGate.WaitAsync();
        try
        {
            if (!_extraPairs.TryGetValue(logPrefix, out var pair))
            {
                foreach (var running in _extraPairs.Values)
                {
                    _resources.Remove(running);
                    await running.DisposeAsync();
                }

                // Each start costs the run seconds of CPU (two hosts under the Functions host), so the output counts them.
                _diagnostics.OnMessage(new Xunit.Sdk.DiagnosticMessage(
                    $"extra pair '{logPrefix}': starting" + (_extraPairs.Count == 0 ? "" : $", after stopping '{string.Join("', '", _extraPairs.Keys)}'")));
                _extraPairs.Clear();
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
                pair = await Stack.StartAnotherPairAsync(host, gatewaySettings, logPrefix, timeout.Token);
                _extraPairs[logPrefix] = pair;
                OnDispose(pair);
            }

            return pair;
        }
        finally
        {
            _extraPairsGate.Release();
        }
    }

    /// <summary>Stops the extra pair started for <paramref name="logPrefix"/>, if it runs (a test that alone uses it).</summary>
    public async Task StopExtraPairAsync(string logPrefix)
    {
        await _extraPairsGate.WaitAsync();
        try
        {
            if (_extraPairs.Remove(logPrefix, out var pair))
            {
                _resources.Remove(pair);
                await pair.DisposeAsync();
            }
        }
        finally
        {
            _extraPairsGate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        JobsReachedSource.TrySetResult();

        // An app under the Functions host that had to be started twice (its host exited while it started) passes the
        // tests, so the run's output says so: shown because xunit.runner.json turns diagnostic messages on.
        foreach (var retry in Stack?.StartRetries ?? [])
        {
            _diagnostics.OnMessage(new Xunit.Sdk.DiagnosticMessage("An app was started again: " + retry));
        }

        foreach (var resource in _resources)
        {
            await resource.DisposeAsync();
        }

        Gateway?.Dispose();
        if (Stack is not null)
        {
            await Stack.DisposeAsync();
        }

        // SERVERLESSSERVE_KEEP_TEST_STATE=1 keeps the folder (logs, Azurite data) to look at after a failed run.
        try
        {
            if (!KeepState)
            {
                Directory.Delete(State.Directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A log still held open; the temp folder is cleaned by the OS.
        }
    }

    /// <summary>A caller token from the stack's local issuer (ES256 unless told otherwise), as <c>ssctl token</c> mints.</summary>
    public string MintCallerToken(string subject, TimeSpan? lifetime = null, string algorithm = LocalIssuerKey.Es256) =>
        Stack.Issuer.Mint(subject, lifetime: lifetime ?? TimeSpan.FromMinutes(30), algorithm: algorithm);

    /// <summary>A token of the gateway's managed identity for the inference app, as the local issuer's endpoint hands it out.</summary>
    public string GatewayToken() => Stack.Issuer.MintGatewayToken();

    /// <summary>
    /// The audit records of requests (every operation but <c>security</c>): security records are also written in the
    /// background (the periodic summary of refused tokens, alarms), so a count of requests must leave them out.
    /// </summary>
    public async Task<int> RequestRecordCountAsync() =>
        (await AuditLinesAsync()).Count(l => !l.Contains("\"operation\":\"security\"", StringComparison.Ordinal));

    /// <summary>Every audit record line in <paramref name="container"/>'s hash chains (none before the first record).</summary>
    public async Task<List<string>> AuditLinesAsync(string container = "audit")
    {
        var client = Blobs.GetBlobContainerClient(container);
        var lines = new List<string>();
        if (!await client.ExistsAsync())
        {
            return lines; // nothing audited yet
        }

        await foreach (var item in client.GetBlobsAsync(BlobTraits.None, BlobStates.None, "chains/", default))
        {
            var text = (await client.GetBlobClient(item.Name).DownloadContentAsync()).Value.Content.ToString();
            lines.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        return lines;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>
    /// An app's log as written so far. The app still holds it open for writing (and a restart may replace it), so it
    /// is opened sharing both.
    /// </summary>
    public static string ReadLog(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The tail of both app logs, for test output when something fails.</summary>
    public string LogTail(int lines = 40)
    {
        var builder = new StringBuilder();
        foreach (var log in new[] { Stack.GatewayLog, Stack.InferenceLog })
        {
            builder.AppendLine("== " + Path.GetFileName(log));
            try
            {
                foreach (var line in ReadLog(log).Split('\n').TakeLast(lines))
                {
                    builder.AppendLine(line);
                }
            }
            catch (IOException ex)
            {
                builder.AppendLine(ex.Message);
            }
        }

        return builder.ToString();
    }
}

/// <summary>The stack's start, step by step, as xunit diagnostic messages (the run's output, with their time).</summary>
internal sealed class DiagnosticProgress(IMessageSink sink) : IProgress<string>
{
    public void Report(string value) => sink.OnMessage(new Xunit.Sdk.DiagnosticMessage("stack: " + value));
}
