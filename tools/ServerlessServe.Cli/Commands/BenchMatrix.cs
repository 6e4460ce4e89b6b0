using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Local;
using ServerlessServe.Local.Samples;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl bench --matrix</c>: the same request three ways, interleaved in one run so that they share the machine's
/// state (2 shared cores make absolute figures drift; the ratios hold): <c>raw</c>, an in-process ONNX Runtime session
/// with default options and inputs allocated once; <c>inference</c>, the inference app called directly with a token of
/// the gateway's local managed identity; <c>gateway</c>, the full secure path. Each cell (model × encoding ×
/// concurrency) runs its targets in rounds, the order changing every round so that each follows each other about
/// equally often, and reports p50/p95/p99 and throughput per target over its served requests. With a rate, requests
/// are sent at fixed arrival times (open loop) and each latency runs from the time the request was due, not from when
/// a client got round to it, so a slow server is not hidden by a client that waits for it (coordinated omission).
/// </summary>
internal static class BenchMatrix
{
    /// <summary>What the matrix measures and how.</summary>
    public sealed record Options(
        Uri GatewayUrl,
        Uri InferenceUrl,
        int IssuerPort,
        IReadOnlyList<string> Models,
        IReadOnlyList<bool> Encodings,
        IReadOnlyList<int> Concurrencies,
        int Rounds,
        int RequestsPerRound,
        double Rate)
    {
        /// <summary>Which of <c>raw</c>, <c>inference</c> and <c>gateway</c> to run. Default all three.</summary>
        public IReadOnlyList<string> Targets { get; init; } = ["raw", "inference", "gateway"];

        /// <summary>Rows (images, records) per request; each value is a cell of its own. Default one.</summary>
        public IReadOnlyList<int> Rows { get; init; } = [1];

        /// <summary>The raw target's execution provider: <c>cpu</c> (ONNX Runtime's defaults) or <c>cuda</c> (device 0).</summary>
        public string RawProvider { get; init; } = "cpu";

        /// <summary>Items in each job of the <c>job</c> target (a durable job through the gateway, awaited). Default 1.</summary>
        public int JobItems { get; init; } = 1;

        /// <summary>Requests each target sends in each cell before it is measured (JIT tiering, connections, caches). Default 10.</summary>
        public int Warmup { get; init; } = 10;

        /// <summary>The <c>inference</c> and <c>gateway</c> targets send their bodies chunked, without a <c>Content-Length</c>.</summary>
        public bool Chunked { get; init; }

        /// <summary>
        /// Rows the gateway target sends as one caller before it turns to a new one. Default 900: under the extraction
        /// detector's default volume limit (1,000 rows in 5 minutes), which blocks one caller's stream of identical
        /// queries on a model with extraction detection (digits), as it should.
        /// </summary>
        public int CallerRows { get; init; } = DefaultCallerRows;
    }

    /// <summary>The default of <see cref="Options.CallerRows"/>.</summary>
    public const int DefaultCallerRows = 900;

    /// <summary>One target's figures in one cell.</summary>
    public sealed record Result(
        string Model,
        string Encoding,
        int Rows,
        int Concurrency,
        string Target,
        int Requests,
        int Failures,
        double P50Ms,
        double P95Ms,
        double P99Ms,
        double MaxMs,
        double ThroughputPerSecond,
        double? RateRequested,
        IReadOnlyDictionary<string, double>? StageP50Ms = null,
        int JobItems = 1,
        IReadOnlyDictionary<string, double>? InferenceAppStageP50Ms = null,
        IReadOnlyDictionary<string, double>? HttpCallsPerRequest = null,
        IReadOnlyDictionary<string, double>? InferenceAppHttpCallsPerRequest = null,
        int? Callers = null);

    internal interface ITarget : IDisposable
    {
        string Name { get; }

        Task<bool> SendAsync(CancellationToken cancellationToken);
    }

    /// <param name="stages">The gateway's stage timings, where they can be read (else null: the table has none).</param>
    /// <param name="inferenceStages">
    /// The inference app's, where they can be read: one set per cell, over its requests from every target that reaches it
    /// (inference, gateway, job), on each of their rows (else null).
    /// </param>
    public static async Task<IReadOnlyList<Result>> RunAsync(LocalState state, Options options, StageMetrics? stages, CancellationToken cancellationToken, StageMetrics? inferenceStages = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(options);
        var serviceToken = LocalManagedIdentity.MintGatewayToken(state, LocalIssuer.IssuerFor(options.IssuerPort), TimeSpan.FromHours(1));
        var connections = options.Concurrencies.Max() * 2;
        using var gatewayHandler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var gateway = new HttpClient(gatewayHandler) { BaseAddress = options.GatewayUrl, Timeout = TimeSpan.FromSeconds(60) };
        using var inferenceHandler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var inference = new HttpClient(inferenceHandler) { BaseAddress = options.InferenceUrl, Timeout = TimeSpan.FromSeconds(60) };

        var results = new List<Result>();
        bool Wants(string target) => options.Targets.Contains(target, StringComparer.Ordinal);
        foreach (var model in options.Models)
        {
            var bytes = Wants("raw") ? ModelBytes(model) : [];
            foreach (var rows in options.Rows)
            {
                using var raw = Wants("raw") ? new RawTarget(model, bytes, rows, options.RawProvider) : null;
                foreach (var binary in options.Encodings)
                {
                    var payload = BenchPayloads.For(model, binary, rows) with { Chunked = options.Chunked };
                    var path = $"v2/models/{Uri.EscapeDataString(model)}/infer";
                    using var viaInference = Wants("inference") ? new HttpTarget("inference", inference, path, serviceToken, payload) : null;
                    // Callers of their own per model and encoding, and a new one every CallerRows rows: thousands of
                    // identical queries from one caller are what extraction detection is there to stop (digits blocks a
                    // caller past 1,000 rows in 5 minutes), and one cell's verdict must not decide the next cell's.
                    var callerPrefix = $"bench-{model}-{(binary ? "binary" : "json")}-";
                    string MintCaller(string kind) => LocalIssuer.Mint(state, (callerPrefix + kind + Guid.NewGuid().ToString("N"))[..48], [], TimeSpan.FromHours(1));
                    var callers = new BenchCallers(() => MintCaller(""), options.CallerRows, rows);
                    using var viaGateway = Wants("gateway") ? new HttpTarget("gateway", gateway, path, callers.Next, payload) : null;
                    // A job's items are JSON: built only when jobs are measured (32 images of JSON are tens of megabytes).
                    // A job's rows are its items' rows: its callers turn over by those.
                    var jobCallers = new BenchCallers(() => MintCaller("job-"), options.CallerRows, rows * options.JobItems);
                    using var viaJob = Wants("job") ? new JobTarget(options.GatewayUrl, model, jobCallers, BenchPayloads.For(model, binary: false, rows), options.JobItems, options.Concurrencies.Max()) : null;
                    ITarget[] targets = [.. new ITarget?[] { raw, viaInference, viaGateway, viaJob }.OfType<ITarget>()];
                    foreach (var concurrency in options.Concurrencies)
                    {
                        var sentBefore = callers.Sent;
                        var jobsBefore = jobCallers.Sent;
                        var cell = await RunCellAsync(model, binary ? "binary" : "json", rows, concurrency, targets, options, stages, inferenceStages, cancellationToken).ConfigureAwait(false);
                        var callersInCell = callers.Between(sentBefore, callers.Sent);
                        var jobCallersInCell = jobCallers.Between(jobsBefore, jobCallers.Sent);
                        results.AddRange(cell.Select(r => r.Target switch
                        {
                            "gateway" => r with { Callers = callersInCell },
                            "job" => r with { Callers = jobCallersInCell },
                            _ => r,
                        }));
                    }
                }
            }
        }

        return results;
    }

    private static async Task<IEnumerable<Result>> RunCellAsync(
        string model, string encoding, int rows, int concurrency, ITarget[] targets, Options options, StageMetrics? stages, StageMetrics? inferenceStages, CancellationToken cancellationToken)
    {
        // Warm-up: sessions, JIT, connections, caches. Not measured.
        foreach (var target in targets)
        {
            for (var i = 0; i < options.Warmup; i++)
            {
                await target.SendAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        // The warm-up's last second is published after it ends: both wait for it, at the same time, and forget it.
        await Task.WhenAll(stages?.SettleAsync(cancellationToken) ?? Task.CompletedTask, inferenceStages?.SettleAsync(cancellationToken) ?? Task.CompletedTask).ConfigureAwait(false);
        var latencies = targets.ToDictionary(t => t.Name, _ => new List<double>());
        var refused = targets.ToDictionary(t => t.Name, _ => new List<double>());
        var busy = targets.ToDictionary(t => t.Name, _ => TimeSpan.Zero);

        // The order changes every round so that each target follows each of the others about equally often, the warm-up's
        // last one included: what a burst leaves running on the shared cores (collections, compilation, storage) then
        // falls on every target alike. A plain rotation kept the cycle: raw ran after the gateway in almost every round.
        foreach (var order in Orders(options.Rounds, targets.Length, targets.Length - 1))
        {
            foreach (var k in order)
            {
                var target = targets[k];
                var block = options.Rate > 0
                    ? await OpenLoopAsync(target, options.RequestsPerRound, options.Rate, concurrency, cancellationToken).ConfigureAwait(false)
                    : await ClosedLoopAsync(target, options.RequestsPerRound, concurrency, cancellationToken).ConfigureAwait(false);
                latencies[target.Name].AddRange(block.Served);
                refused[target.Name].AddRange(block.Refused);
                busy[target.Name] += block.Wall;
            }
        }

        // Both processes' publications are waited for at the same time, not one after the other.
        var gatewayP50 = StageP50Async(stages, cancellationToken);
        var inferenceP50 = StageP50Async(inferenceStages, cancellationToken);
        var stageP50 = await gatewayP50.ConfigureAwait(false);
        var inferenceStageP50 = await inferenceP50.ConfigureAwait(false);
        var calls = stageP50 is null ? null : stages?.CallsPerRequest();
        var inferenceCalls = inferenceStageP50 is null ? null : inferenceStages?.CallsPerRequest();

        return targets.Select(t =>
        {
            // Served requests only: a refusal comes back in a fraction of a served request's time, and would pull the
            // percentiles down and the throughput up. A target refused every time (a cell measuring the refusal path,
            // such as reading a body too large to serve) reports its refusals.
            var served = latencies[t.Name].Count > 0 ? latencies[t.Name] : refused[t.Name];
            var sorted = served.Order().ToArray();
            return new Result(
                model, encoding, rows, concurrency, t.Name, latencies[t.Name].Count + refused[t.Name].Count, refused[t.Name].Count,
                BenchReport.NearestRank(sorted, 50), BenchReport.NearestRank(sorted, 95), BenchReport.NearestRank(sorted, 99), sorted.Length == 0 ? 0 : sorted[^1],
                sorted.Length / busy[t.Name].TotalSeconds, options.Rate > 0 ? options.Rate : null, t.Name == "gateway" ? stageP50 : null, t.Name == "job" ? options.JobItems : 1, t.Name == "raw" ? null : inferenceStageP50,
                t.Name == "gateway" ? calls : null, t.Name == "raw" ? null : inferenceCalls);
        });
    }

    /// <summary>A target's block: latencies of served requests and of refused or failed ones, and its wall time.</summary>
    internal sealed record Block(List<double> Served, List<double> Refused, TimeSpan Wall);

    /// <summary>
    /// The order of targets 0..<paramref name="count"/>-1 in each of <paramref name="rounds"/> rounds, after a warm-up
    /// that ended with <paramref name="previous"/>: each round the permutation that keeps the counts of "b ran right after
    /// a" (across round boundaries too) most even, never a target twice in a row. Deterministic.
    /// </summary>
    internal static int[][] Orders(int rounds, int count, int previous)
    {
        var permutations = Permutations(Enumerable.Range(0, count).ToArray()).ToList();
        var after = new int[count, count];
        var orders = new int[rounds][];
        for (var round = 0; round < rounds; round++)
        {
            int[]? best = null;
            var bestScore = long.MaxValue;
            foreach (var candidate in permutations)
            {
                if (count > 1 && candidate[0] == previous)
                {
                    continue;
                }

                var score = 0L;
                var before = previous;
                var added = new int[count, count];
                foreach (var target in candidate)
                {
                    if (before >= 0)
                    {
                        added[before, target]++;
                    }

                    before = target;
                }

                for (var a = 0; a < count; a++)
                {
                    for (var b = 0; b < count; b++)
                    {
                        var n = (long)after[a, b] + added[a, b];
                        score += n * n;
                    }
                }

                if (score < bestScore)
                {
                    (best, bestScore) = (candidate, score);
                }
            }

            var last = previous;
            foreach (var target in best!)
            {
                if (last >= 0)
                {
                    after[last, target]++;
                }

                last = target;
            }

            orders[round] = best;
            previous = last;
        }

        return orders;
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (var i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }

    /// <summary><paramref name="count"/> requests, <paramref name="concurrency"/> in flight, each sent when the last one of its worker answered.</summary>
    internal static async Task<Block> ClosedLoopAsync(ITarget target, int count, int concurrency, CancellationToken cancellationToken)
    {
        var latencies = new double[count];
        var ok = new bool[count];
        var next = -1;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                ok[index] = await target.SendAsync(cancellationToken).ConfigureAwait(false);
                latencies[index] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        })).ConfigureAwait(false);
        return Split(latencies, ok, wall.Elapsed);
    }

    private static Block Split(double[] latencies, bool[] ok, TimeSpan wall) =>
        new([.. latencies.Where((_, i) => ok[i])], [.. latencies.Where((_, i) => !ok[i])], wall);

    /// <summary>
    /// <paramref name="count"/> requests due at a fixed rate (request i at start + i / rate), at most
    /// <paramref name="maxInFlight"/> in flight. A latency runs from when the request was due: time spent waiting for a
    /// free slot because the server fell behind counts against the server, as it would for a real client arriving then.
    /// </summary>
    internal static async Task<Block> OpenLoopAsync(ITarget target, int count, double rate, int maxInFlight, CancellationToken cancellationToken)
    {
        var latencies = new double[count];
        var ok = new bool[count];
        using var slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        var start = Stopwatch.GetTimestamp();
        var sends = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            var due = start + (long)(i / rate * Stopwatch.Frequency);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
            }

            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            var index = i;
            sends.Add(Task.Run(
                async () =>
                {
                    try
                    {
                        // From when it was due: a request that went out late (no free slot, the server behind) counts
                        // its wait. Task.Delay wakes on whole milliseconds, so one can also go out early: its latency
                        // then runs from when it went out, never from a time after it was sent. (Until 2026-12-07 this
                        // took the later of the two: a late request's wait was left out, coordinated omission again,
                        // and an early one's latency cut short, below zero for the raw target.)
                        var sent = Math.Min(due, Stopwatch.GetTimestamp());
                        ok[index] = await target.SendAsync(cancellationToken).ConfigureAwait(false);
                        latencies[index] = (double)(Stopwatch.GetTimestamp() - sent) / Stopwatch.Frequency * 1000;
                    }
                    finally
                    {
                        slots.Release();
                    }
                },
                cancellationToken));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
        return Split(latencies, ok, Stopwatch.GetElapsedTime(start));
    }

    public static void Print(IReadOnlyList<Result> results)
    {
        var table = new Table().AddColumn("model").AddColumn("encoding").AddColumn("rows").AddColumn("c").AddColumn("target").AddColumn("requests").AddColumn("failures")
            .AddColumn("p50 ms").AddColumn("p95 ms").AddColumn("p99 ms").AddColumn("req/s").AddColumn("vs raw p50");
        foreach (var cell in results.GroupBy(r => (r.Model, r.Encoding, r.Rows, r.Concurrency)))
        {
            var raw = cell.FirstOrDefault(r => r.Target == "raw");
            foreach (var r in cell)
            {
                var versus = raw is null || r.Target == "raw" ? string.Empty : string.Create(CultureInfo.InvariantCulture, $"+{r.P50Ms - raw.P50Ms:F2} ms, {r.P50Ms / raw.P50Ms:F2}×");
                table.AddRow(r.Model, r.Encoding, I(r.Rows), I(r.Concurrency), r.Target, I(r.Requests), I(r.Failures), F(r.P50Ms), F(r.P95Ms), F(r.P99Ms), F(r.ThroughputPerSecond), versus);
            }
        }

        AnsiConsole.Write(table);
        foreach (var cell in results.GroupBy(r => (r.Model, r.Encoding, r.Rows, r.Concurrency)))
        {
            if (cell.FirstOrDefault(r => r.StageP50Ms is { Count: > 0 }) is { } gateway)
            {
                PrintStages(gateway, gateway.Target, gateway.StageP50Ms!, gateway.HttpCallsPerRequest);
            }

            if (cell.FirstOrDefault(r => r.InferenceAppStageP50Ms is { Count: > 0 }) is { } inference)
            {
                PrintStages(inference, "inference app, every target's requests", inference.InferenceAppStageP50Ms!, inference.InferenceAppHttpCallsPerRequest);
            }

            if (Overhead(cell.ToList()) is { } overhead)
            {
                Console.Out.WriteLine(overhead);
            }
        }

        foreach (var r in results)
        {
            Console.Out.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"bench-matrix {r.Model} {r.Encoding}{RowsLabel(r)} c={r.Concurrency} {r.Target}: requests={r.Requests} failures={r.Failures} p50={r.P50Ms:F3}ms p95={r.P95Ms:F3}ms p99={r.P99Ms:F3}ms throughput={r.ThroughputPerSecond:F1}/s rows/s={r.ThroughputPerSecond * r.Rows * r.JobItems:F1}{(r.Callers is { } callers ? string.Create(CultureInfo.InvariantCulture, $" callers={callers}") : "")}"));
        }
    }

    /// <summary>
    /// The serving overhead of a cell, as issue 13's targets read it: the gateway's p50 over raw ONNX Runtime's, the
    /// audit commit (the gateway's <c>audit</c> stage p50, the one storage round trip fail-closed audit costs) apart, and
    /// the ratio. Null without both targets, or without the gateway's stages.
    /// </summary>
    internal static string? Overhead(IReadOnlyList<Result> cell)
    {
        var raw = cell.FirstOrDefault(r => r.Target == "raw");
        var gateway = cell.FirstOrDefault(r => r.Target == "gateway");
        if (raw is null || gateway is null || gateway.StageP50Ms?.TryGetValue("audit", out var audit) != true)
        {
            return null;
        }

        var over = gateway.P50Ms - raw.P50Ms;
        // The percentiles are the served requests', but refusals still took turns on the cores and skip stages (whose
        // p50s then mix both): a cell with any is no clean measure of serving.
        var failed = gateway.Failures + raw.Failures;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"overhead {gateway.Model} {gateway.Encoding}{RowsLabel(gateway)} c={gateway.Concurrency}: gateway - raw = {over:F3} ms (audit commit {audit:F3} ms, the rest {over - audit:F3} ms), gateway / raw = {gateway.P50Ms / raw.P50Ms:F2}{(failed > 0 ? string.Create(CultureInfo.InvariantCulture, $"; NOT a serving overhead: {gateway.Failures} of {gateway.Requests} gateway and {raw.Failures} of {raw.Requests} raw requests failed") : "")}");
    }

    // An HTTP destination's p50 is followed by its calls per request in brackets.
    private static void PrintStages(Result r, string where, IReadOnlyDictionary<string, double> stages, IReadOnlyDictionary<string, double>? calls) =>
        Console.Out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"stages {r.Model} {r.Encoding}{RowsLabel(r)} c={r.Concurrency} ({where}, p50 ms): {string.Join(", ", stages.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value:F3}{(calls?.TryGetValue(kv.Key, out var n) == true ? string.Create(CultureInfo.InvariantCulture, $" [{n:F2}/req]") : "")}")))}"));

    // The runtime publishes each second's quantiles: wait for the last second of the cell, and on a loaded machine a
    // little longer for the first publication. None at all: the cell reports no stages (null).
    private static async Task<IReadOnlyDictionary<string, double>?> StageP50Async(StageMetrics? stages, CancellationToken cancellationToken)
    {
        if (stages is null)
        {
            return null;
        }

        // The HTTP timings alone do not count: the app's background calls (storage polling) publish them in any cell.
        static bool HasStages(IReadOnlyDictionary<string, double> p50) => p50.Keys.Any(k => !k.StartsWith("(http ", StringComparison.Ordinal));

        // The whole request's histogram is recorded last (after the audit commit): once it is in, the cell's stages are.
        static bool Complete(IReadOnlyDictionary<string, double> p50) => HasStages(p50) && p50.ContainsKey(StageMetrics.WholeRequest);

        await Task.Delay(TimeSpan.FromMilliseconds(1500), cancellationToken).ConfigureAwait(false);
        var stageP50 = stages.StageP50();
        for (var wait = 0; !Complete(stageP50) && wait < 10; wait++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false);
            stageP50 = stages.StageP50();
        }

        return HasStages(stageP50) ? stageP50 : null;
    }

    public static async Task WriteJsonAsync(FileInfo file, Options options, IReadOnlyList<Result> results, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        file.Directory?.Create();
        var document = new
        {
            machine = new { cores = Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, runtime = Environment.Version.ToString() },
            options = new { options.Rounds, options.RequestsPerRound, options.Rate, options.Concurrencies, options.Rows, options.Targets, options.RawProvider, options.JobItems, options.Chunked },
            results,
        };
        await using var stream = file.Create();
        await JsonSerializer.SerializeAsync(stream, document, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }, cancellationToken).ConfigureAwait(false);
    }

    private static string RowsLabel(Result r) => r.Rows == 1 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" rows={r.Rows}");

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>The model as the local stack publishes it (ResNet18 with its batch dimension free).</summary>
    private static byte[] ModelBytes(string model) => model == ResNet18Sample.Name
        ? ResNet18Sample.WithDynamicBatch(ResNet18Sample.ReadVerifiedAsync(ResNet18Sample.Find() ?? throw new InvalidOperationException("ResNet18.onnx is not here (restore the NuGet packages)."), CancellationToken.None).GetAwaiter().GetResult())
        : SampleModels.BuildModel(model);

    /// <summary>The same request over HTTP: to the inference app with the gateway's service token, or to the gateway with a caller's.</summary>
    private sealed class HttpTarget(string name, HttpClient http, string path, Func<string> token, BenchPayload payload) : ITarget
    {
        public HttpTarget(string name, HttpClient http, string path, string token, BenchPayload payload)
            : this(name, http, path, () => token, payload)
        {
        }

        public string Name => name;

        public async Task<bool> SendAsync(CancellationToken cancellationToken) =>
            await BenchCommand.SendAsync(http, path, token(), payload, cancellationToken).ConfigureAwait(false) == HttpStatusCode.OK;

        public void Dispose()
        {
        }
    }

    /// <summary>
    /// A durable job of <c>JobItems</c> copies of the request (JSON items) through the gateway, submitted with
    /// <c>Prefer: wait</c> and awaited until it settles: one latency is one job, submit to completed (docs/jobs.md).
    /// </summary>
    private sealed class JobTarget : ITarget
    {
        private readonly SocketsHttpHandler _handler;
        private readonly HttpClient _http;
        private readonly string _path;
        private readonly byte[] _body;
        private readonly int _items;

        private readonly BenchCallers _callers;

        public JobTarget(Uri gatewayUrl, string model, BenchCallers callers, BenchPayload item, int items, int connections)
        {
            _handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
            _http = new HttpClient(_handler) { BaseAddress = gatewayUrl, Timeout = TimeSpan.FromMinutes(5) };
            _callers = callers;
            _path = $"v2/models/{Uri.EscapeDataString(model)}/jobs";
            _body = BenchCommand.JobBody(item, items);
            _items = items;
        }

        public string Name => "job";

        // A job is submitted and polled as one caller: only its owner may read its status.
        public Task<bool> SendAsync(CancellationToken cancellationToken) => BenchCommand.RunJobAsync(_http, _path, _body, _items, cancellationToken, _callers.Next());

        public void Dispose()
        {
            _http.Dispose();
            _handler.Dispose();
        }
    }

    /// <summary>
    /// The model in an ONNX Runtime session of this process, default session options, the input allocated once: what
    /// serving can at best approach. Runs are dispatched to the thread pool so that several can be in flight.
    /// </summary>
    private sealed class RawTarget : ITarget
    {
        private readonly InferenceSession _session;
        private readonly OrtValue _input;
        private readonly string[] _inputNames;
        private readonly string[] _outputNames;
        private readonly RunOptions _runOptions = new();

        public RawTarget(string model, byte[] bytes, int rows, string provider)
        {
            Onnx.OnnxRuntimeTelemetry.Disable();
            using var sessionOptions = new SessionOptions();
            if (provider == "cuda")
            {
                sessionOptions.AppendExecutionProvider_CUDA(0);
            }

            _session = new InferenceSession(bytes, sessionOptions);
            var (name, datatype, shape, values) = BenchPayloads.Input(model, rows);
            _input = datatype == "INT64"
                ? OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(values, v => (long)v), Array.ConvertAll(shape, d => (long)d))
                : OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(values, v => (float)v), Array.ConvertAll(shape, d => (long)d));
            _inputNames = [name];
            _outputNames = [.. _session.OutputNames];
        }

        public string Name => "raw";

        public Task<bool> SendAsync(CancellationToken cancellationToken) => Task.Run(
            () =>
            {
                using var outputs = _session.Run(_runOptions, _inputNames, [_input], _outputNames);
                return outputs.Count == _outputNames.Length;
            },
            cancellationToken);

        public void Dispose()
        {
            _input.Dispose();
            _runOptions.Dispose();
            _session.Dispose();
        }
    }
}
