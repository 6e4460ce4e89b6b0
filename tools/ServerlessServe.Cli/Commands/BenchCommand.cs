using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Local;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl bench</c>: a bounded load against a running gateway on loopback; prints latency percentiles and throughput.
/// Refuses any address that is not loopback.
/// </summary>
internal static class BenchCommand
{
    public static Command Build()
    {
        var stateOption = CommonOptions.State();
        var url = new Option<Uri>("--url") { Description = "Gateway V2 base URL (loopback only).", CustomParser = result => CommonOptions.AbsoluteUri(result)!, DefaultValueFactory = _ => new Uri("http://127.0.0.1:7071/api/") };
        var model = new Option<string>("--model") { Description = "Model to call: credit-risk, customer-notes, digits or resnet18.", DefaultValueFactory = _ => "credit-risk" };
        var requests = new Option<int>("--requests") { Description = "Requests to send (1..100000).", DefaultValueFactory = _ => 500 };
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight (1..64).", DefaultValueFactory = _ => 4 };
        var binary = new Option<bool>("--binary") { Description = "Use the binary tensor extension instead of JSON." };
        var jobItems = new Option<int>("--job-items")
        {
            Description = "Measure jobs instead: each request is a job of this many items (1..1000), submitted and polled until it settles; --requests counts jobs, --concurrency jobs in flight (at most the gateway's running jobs per caller, default 10).",
        };
        var signKey = new Option<FileInfo?>("--sign-key")
        {
            Description = "Sign every request (RFC 9421) with this P-256 private key (PEM), registered for the bench caller (subject 'bench') under --key-id: for a model whose policy requires signed requests.",
        };
        var keyId = new Option<string>("--key-id") { Description = "The key id --sign-key is registered under.", DefaultValueFactory = _ => "bench" };
        var receipt = new Option<bool>("--receipt") { Description = "Ask for a signed audit receipt on every request (x-audit-receipt: ?1); a 200 without one counts as a failure." };
        var matrix = new Option<bool>("--matrix")
        {
            Description = "Compare, interleaved in one run: raw (ONNX Runtime in this process), inference (the inference app called directly with the gateway's service token) and gateway (the full secure path), for each model × encoding × concurrency; --requests then counts per target and round.",
        };
        var models = new Option<string>("--models") { Description = "--matrix: comma-separated models.", DefaultValueFactory = _ => "credit-risk,digits,resnet18" };
        var encodings = new Option<string>("--encodings") { Description = "--matrix: json, binary or both.", DefaultValueFactory = _ => "json,binary" };
        var concurrencies = new Option<string>("--concurrencies") { Description = "--matrix: comma-separated concurrencies (1..64).", DefaultValueFactory = _ => "1,8" };
        var rounds = new Option<int>("--rounds") { Description = "--matrix: rounds per cell; the targets' order rotates each round (1..100).", DefaultValueFactory = _ => 5 };
        var rate = new Option<double>("--rate") { Description = "--matrix: requests per second at fixed arrival times (open loop, latency from when each request was due); 0: closed loop." };
        var inferenceUrl = new Option<Uri>("--inference-url") { Description = "--matrix: inference app V2 base URL (loopback only).", CustomParser = result => CommonOptions.AbsoluteUri(result)!, DefaultValueFactory = _ => new Uri("http://127.0.0.1:7072/api/") };
        var issuerPort = new Option<int>("--issuer-port") { Description = "--matrix: port of the local issuer whose key signs the gateway's service tokens.", DefaultValueFactory = _ => LocalIssuer.DefaultPort };
        var output = new Option<FileInfo?>("--out") { Description = "--matrix: also write the results as JSON to this file." };
        var targets = new Option<string>("--targets") { Description = "--matrix: comma-separated targets among raw, inference, gateway and job (a durable job of --job-items items, default 1, through the gateway, awaited).", DefaultValueFactory = _ => "raw,inference,gateway" };
        var rows = new Option<string>("--rows") { Description = "--matrix: comma-separated rows per request (1..1024), a cell each; the model's policy must allow them (maxBatch).", DefaultValueFactory = _ => "1" };
        var warmup = new Option<int?>("--warmup")
        {
            Description = "Requests (jobs with --job-items) sent first and not measured, so that the apps' JIT tiering, connections and caches settle (0..100000). Default 10 requests, 2 jobs; with --matrix, per target and cell. A server's first few hundred jobs run partly unoptimised code: measure steady state with a few hundred.",
        };
        var chunked = new Option<bool>("--chunked")
        {
            Description = "Send each request body chunked, without a Content-Length, as a streaming V2 client does (the Functions host passes such a body through instead of reading it whole first; docs/protocol.md, \"Chunked bodies\").",
        };
        var callerRows = new Option<int>("--caller-rows")
        {
            Description = "Rows the gateway target (and a plain run, without --sign-key) sends as one caller before it turns to a new one (1..1000000), so that no caller passes a model's extraction volume limit (1,000 rows in 5 minutes by default; digits blocks a caller past it).",
            DefaultValueFactory = _ => BenchMatrix.DefaultCallerRows,
        };
        var rawProvider = new Option<string>("--raw-provider") { Description = "--matrix: execution provider of the raw target: cpu or cuda (device 0; needs the GPU build, OnnxRuntimeFlavor=Gpu).", DefaultValueFactory = _ => "cpu" };
        rawProvider.AcceptOnlyFromAmong("cpu", "cuda");
                var command = new Command("bench", "Measure latency and throughput of a running local stack.") { stateOption, url, model, requests, concurrency, binary, jobItems, signKey, keyId, receipt, matrix, models, encodings, concurrencies, rounds, rate, inferenceUrl, issuerPort, output, targets, rows, rawProvider, warmup, chunked, callerRows };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var baseUrl = parse.GetValue(url)!;
            if (!baseUrl.AbsoluteUri.EndsWith('/'))
            {
                baseUrl = new Uri(baseUrl.AbsoluteUri + "/");
            }

            if (!baseUrl.IsLoopback)
            {
                AnsiConsole.MarkupLine("[red]bench targets loopback addresses only.[/]");
                return 2;
            }

            var total = Math.Clamp(parse.GetValue(requests), 1, 100_000);
            var inFlight = Math.Clamp(parse.GetValue(concurrency), 1, 64);
            var state = CommonOptions.ResolveState(parse.GetValue(stateOption));
            var warm = parse.GetValue(warmup) is { } w ? Math.Clamp(w, 0, 100_000) : (int?)null;
            if (parse.GetValue(matrix))
            {
                return await RunMatrixAsync(
                    state,
                    new BenchMatrix.Options(
                        baseUrl,
                        WithSlash(parse.GetValue(inferenceUrl)!),
                        parse.GetValue(issuerPort),
                        List(parse.GetValue(models)!),
                        [.. List(parse.GetValue(encodings)!).Select(e => e == "binary")],
                        [.. List(parse.GetValue(concurrencies)!).Select(c => Math.Clamp(int.Parse(c, System.Globalization.CultureInfo.InvariantCulture), 1, 64))],
                        Math.Clamp(parse.GetValue(rounds), 1, 100),
                        parse.GetResult(requests) is null ? 100 : total,
                        Math.Max(0, parse.GetValue(rate)))
                    {
                        Targets = List(parse.GetValue(targets)!),
                        Rows = [.. List(parse.GetValue(rows)!).Select(r => Math.Clamp(int.Parse(r, System.Globalization.CultureInfo.InvariantCulture), 1, 1024))],
                        RawProvider = parse.GetValue(rawProvider)!,
                        JobItems = Math.Clamp(parse.GetValue(jobItems) is > 0 and var n ? n : 1, 1, 1000),
                        Warmup = warm ?? 10,
                        Chunked = parse.GetValue(chunked),
                        CallerRows = Math.Clamp(parse.GetValue(callerRows), 1, 1_000_000),
                    },
                    parse.GetValue(output),
                    cancellationToken).ConfigureAwait(false);
            }

            var token = LocalIssuer.Mint(state, "bench", [], TimeSpan.FromHours(1));
            var payload = BenchPayloads.For(parse.GetValue(model)!, parse.GetValue(binary));
            var items = parse.GetValue(jobItems);

            // A new caller every --caller-rows rows, as the matrix's gateway target has, so that a long run is not refused
            // for the extraction detector's volume limit. A signing key is registered for one subject, 'bench', so a
            // signed run keeps that one caller.
            var callers = parse.GetValue(signKey) is null
                ? new BenchCallers(() => LocalIssuer.Mint(state, "bench-" + Guid.NewGuid().ToString("N"), [], TimeSpan.FromHours(1)), Math.Clamp(parse.GetValue(callerRows), 1, 1_000_000), rowsPerRequest: 1)
                : new BenchCallers(() => token, int.MaxValue, rowsPerRequest: 1);
            using var signer = parse.GetValue(signKey) is not null ? ECDsa.Create() : null;
            if (signer is not null)
            {
                signer.ImportFromPem(await File.ReadAllTextAsync(parse.GetValue(signKey)!.FullName, cancellationToken).ConfigureAwait(false));
                payload = payload with { Signer = signer, KeyId = parse.GetValue(keyId)! };
            }

            payload = payload with { Receipt = parse.GetValue(receipt), Chunked = parse.GetValue(chunked) };
            BenchReport report;
            try
            {
                report = items > 0
                    ? await RunJobsAsync(baseUrl, parse.GetValue(model)!, token, BenchPayloads.For(parse.GetValue(model)!, binary: false), Math.Min(items, 1000), total, inFlight, cancellationToken, warm ?? 2).ConfigureAwait(false)
                    : await RunAsync(baseUrl, parse.GetValue(model)!, callers, payload, total, inFlight, cancellationToken, warm ?? 10).ConfigureAwait(false);
            }
            catch (HttpRequestException)
            {
                AnsiConsole.MarkupLine($"[red]No gateway answers at {Markup.Escape(baseUrl.ToString())}.[/] Start one with [blue]ssctl up[/].");
                return 2;
            }

            report.Print();
            return report.Failures == 0 ? 0 : 1;
        });
        return command;
    }

    private static async Task<int> RunMatrixAsync(LocalState state, BenchMatrix.Options options, FileInfo? output, CancellationToken cancellationToken)
    {
        if (!options.InferenceUrl.IsLoopback)
        {
            AnsiConsole.MarkupLine("[red]bench targets loopback addresses only.[/]");
            return 2;
        }

        if (options.Models.Count == 0 || options.Encodings.Count == 0 || options.Concurrencies.Count == 0 || options.Targets.Count == 0 || options.Rows.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]--models, --encodings, --concurrencies, --targets and --rows each need at least one value.[/]");
            return 2;
        }

        if (options.Targets.FirstOrDefault(t => t is not ("raw" or "inference" or "gateway" or "job")) is { } unknown)
        {
            AnsiConsole.MarkupLine($"[red]Unknown target '{Markup.Escape(unknown)}':[/] use raw, inference, gateway or job.");
            return 2;
        }

        ReserveThreads(options.Concurrencies.Max());

        // The gateway's own stage timings, over the runtime's local diagnostics channel (as dotnet-counters reads them).
        StageMetrics? stages = null;
        if (StageMetrics.FindGateway(options.GatewayUrl.Port) is { } gatewayProcess)
        {
            stages = StageMetrics.TryStart(gatewayProcess, out var reason);
            if (stages is null)
            {
                AnsiConsole.MarkupLine($"[yellow]No stage timings:[/] {Markup.Escape(reason ?? "the gateway's diagnostics channel did not answer")}");
            }
        }
        else
        {
            AnsiConsole.MarkupLine("[yellow]No stage timings:[/] no single ServerlessServe.Gateway process of this user, for this port, publishes a diagnostics channel here.");
        }

        // The inference app's too (its requests from the inference and the gateway targets alike), where it can be found.
        var inferenceStages = StageMetrics.FindApp("ServerlessServe.Inference", options.InferenceUrl.Port) is { } inferenceProcess
            ? StageMetrics.TryStart(inferenceProcess, out _)
            : null;

        IReadOnlyList<BenchMatrix.Result> results;
        try
        {
            using (stages)
            using (inferenceStages)
            {
                results = await BenchMatrix.RunAsync(state, options, stages, cancellationToken, inferenceStages).ConfigureAwait(false);
            }
        }
        catch (HttpRequestException)
        {
            AnsiConsole.MarkupLine($"[red]No gateway or inference app answers at {Markup.Escape(options.GatewayUrl.ToString())} / {Markup.Escape(options.InferenceUrl.ToString())}.[/] Start them with [blue]ssctl up[/].");
            return 2;
        }

        if (options.Chunked)
        {
            Console.Out.WriteLine("bench-matrix: the inference and gateway targets sent their bodies chunked, without a Content-Length.");
        }

        BenchMatrix.Print(results);
        if (output is not null)
        {
            await BenchMatrix.WriteJsonAsync(output, options, results, cancellationToken).ConfigureAwait(false);
        }

        return results.All(r => r.Failures == 0) ? 0 : 1;
    }

    /// <summary>
    /// Lets the thread pool start a thread for every request the bench keeps in flight without waiting. The raw target
    /// runs ONNX Runtime synchronously on a pool thread, so at concurrency c it holds c of them. The pool starts with one
    /// thread per core and adds more only every half second or so while starved, and a load generator that waits for its
    /// own threads reports that wait as the server's latency (docs/performance.md, "The load generator starved itself").
    /// </summary>
    private static void ReserveThreads(int inFlight)
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, inFlight + Environment.ProcessorCount), completionPorts);
    }

    private static List<string> List(string text) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");

    public static async Task<BenchReport> RunAsync(Uri baseUrl, string model, BenchCallers callers, BenchPayload payload, int total, int inFlight, CancellationToken cancellationToken, int warmup = 10)
    {
        ArgumentNullException.ThrowIfNull(callers);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = inFlight, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        var path = $"v2/models/{Uri.EscapeDataString(model)}/infer";

        // Warm-up: model load and JIT are not what we measure.
        for (var i = 0; i < warmup; i++)
        {
            await SendAsync(http, path, callers.Next(), payload, cancellationToken).ConfigureAwait(false);
        }

        var measuredFrom = callers.Sent;
        var latencies = new double[total];
        var served = new bool[total];
        var next = -1;
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, inFlight).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < total)
            {
                var watch = Stopwatch.StartNew();
                var status = await SendAsync(http, path, callers.Next(), payload, cancellationToken).ConfigureAwait(false);
                latencies[index] = watch.Elapsed.TotalMilliseconds;
                served[index] = status == HttpStatusCode.OK;
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);
        wall.Stop();
        return BenchReport.Of(model, inFlight, latencies, served, wall.Elapsed) with { Warmup = warmup, Callers = callers.Between(measuredFrom, callers.Sent) };
    }

    /// <summary>
    /// Jobs of <paramref name="items"/> identical items: each submitted, then polled every 5 ms until it settles (the
    /// latency is submit to the first poll that sees it completed); a job that does not complete with every item
    /// released is a failure.
    /// </summary>
    public static async Task<BenchReport> RunJobsAsync(Uri baseUrl, string model, string token, BenchPayload payload, int items, int jobs, int inFlight, CancellationToken cancellationToken, int warmup = 2)
    {
        ArgumentNullException.ThrowIfNull(payload);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = inFlight * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var body = JobBody(payload, items);
        var path = $"v2/models/{Uri.EscapeDataString(model)}/jobs";

        for (var i = 0; i < warmup; i++)
        {
            await RunJobAsync(http, path, body, items, cancellationToken).ConfigureAwait(false);
        }

        var latencies = new double[jobs];
        var completed = new bool[jobs];
        var next = -1;
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, inFlight).Select(async _ =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < jobs)
            {
                var watch = Stopwatch.StartNew();
                completed[index] = await RunJobAsync(http, path, body, items, cancellationToken).ConfigureAwait(false);
                latencies[index] = watch.Elapsed.TotalMilliseconds;
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);
        wall.Stop();
        return BenchReport.Of($"{model} jobs of {items}", inFlight, latencies, completed, wall.Elapsed, items) with { Warmup = warmup };
    }

    /// <summary>A job's body: <paramref name="items"/> copies of a JSON request.</summary>
    internal static byte[] JobBody(BenchPayload payload, int items)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var item = Encoding.UTF8.GetString(payload.Body);
        return Encoding.UTF8.GetBytes("{\"items\":[" + string.Join(',', Enumerable.Repeat(item, items)) + "]}");
    }

    // A job is submitted with Prefer: wait (RFC 7240), so the gateway answers once it has finished (or 202 past the
    // wait, and the status is asked for the same way): the latency measured is the job's, not a polling interval's.
    internal static async Task<bool> RunJobAsync(HttpClient http, string path, byte[] body, int items, CancellationToken cancellationToken, string? token = null)
    {
        // The caller's token on each request when given (the matrix turns callers over); else the client's default.
        var authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromMinutes(5));
        using var submit = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        submit.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        submit.Headers.TryAddWithoutValidation("Prefer", "wait=20");
        submit.Headers.Authorization = authorization;
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(submit, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        try
        {
            while (true)
            {
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
                {
                    return false;
                }

                using var status = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(deadline.Token).ConfigureAwait(false));
                var state = status.RootElement.GetProperty("status").GetString();
                if (state is not ("pending" or "running"))
                {
                    return state == "completed"
                        && status.RootElement.GetProperty("results").EnumerateArray().Count(r => r.GetProperty("outcome").GetString() == "released") == items;
                }

                var id = status.RootElement.GetProperty("id").GetString()!;
                response.Dispose();
                using var ask = new HttpRequestMessage(HttpMethod.Get, $"jobs/{id}");
                ask.Headers.TryAddWithoutValidation("Prefer", "wait=20");
                ask.Headers.Authorization = authorization;
                response = await http.SendAsync(ask, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A status the bench cannot read, or the job's deadline: one failed job, and the run goes on.
            return false;
        }
        finally
        {
            response.Dispose();
        }
    }

    /// <summary>One bench request (the matrix's HTTP targets send the same): its status, or 502 when a receipt asked for is missing.</summary>
    internal static async Task<HttpStatusCode> SendAsync(HttpClient http, string path, string token, BenchPayload payload, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = payload.Chunked ? new UnsizedByteContent(payload.Body) : new ByteArrayContent(payload.Body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(payload.ContentType);
        if (payload.HeaderLength is { } length)
        {
            request.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (payload.Receipt)
        {
            request.Headers.TryAddWithoutValidation(AuditReceipt.HeaderName, "?1");
        }

        if (payload.Signer is { } key)
        {
            // A fresh signature (created, nonce) per request, as a real signing client makes: its cost is in the latency.
            var headers = RequestSigner.Sign(key, payload.KeyId!, "POST", new Uri(http.BaseAddress!, path).AbsoluteUri, payload.Body, "Bearer " + token, DateTimeOffset.UtcNow);
            request.Headers.TryAddWithoutValidation(ContentDigest.HeaderName, headers.ContentDigest);
            request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureInputHeader, headers.SignatureInput);
            request.Headers.TryAddWithoutValidation(SignatureHeaders.SignatureHeader, headers.Signature);
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
            return payload.Receipt && response.StatusCode == HttpStatusCode.OK && !response.Headers.Contains(AuditReceipt.HeaderName)
                ? HttpStatusCode.BadGateway
                : response.StatusCode;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The client's timeout: one failed request, counted as such; the run goes on (under overload is when its
            // numbers matter).
            return HttpStatusCode.RequestTimeout;
        }
    }
}

/// <summary>A request body for the bench, and the key that signs each request when the model requires signatures.</summary>
internal sealed record BenchPayload(byte[] Body, string ContentType, int? HeaderLength)
{
    public ECDsa? Signer { get; init; }

    public string? KeyId { get; init; }

    /// <summary>Ask for a signed audit receipt with each request.</summary>
    public bool Receipt { get; init; }

    /// <summary>Send the body chunked, without a <c>Content-Length</c>.</summary>
    public bool Chunked { get; init; }
}

/// <summary>
/// A request body whose length is not declared, so that HTTP/1.1 sends it chunked: what a V2 client that streams its
/// tensors sends. The bytes are written in 64 KiB chunks, as such a client writes them.
/// </summary>
internal sealed class UnsizedByteContent(byte[] body) : HttpContent
{
    private const int ChunkBytes = 64 * 1024;

    protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        for (var offset = 0; offset < body.Length; offset += ChunkBytes)
        {
            await stream.WriteAsync(body.AsMemory(offset, Math.Min(ChunkBytes, body.Length - offset)), cancellationToken).ConfigureAwait(false);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>
/// Latency percentiles and throughput of one bench run, over its served requests (<see cref="LatenciesMs"/>): a refusal
/// comes back in a fraction of a served request's time, so counted in, it pulled the percentiles down and the
/// throughput up. A run refused every time (measuring the refusal path) reports its refusals.
/// </summary>
internal sealed record BenchReport(string Model, int Requests, int Concurrency, int Failures, double[] LatenciesMs, TimeSpan Wall, int ItemsPerRequest = 1)
{
    /// <summary>The report of <paramref name="latencies"/>, of which those <paramref name="served"/> count (all when none was).</summary>
    public static BenchReport Of(string model, int concurrency, double[] latencies, bool[] served, TimeSpan wall, int itemsPerRequest = 1)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        ArgumentNullException.ThrowIfNull(served);
        var counted = latencies.Where((_, i) => served[i]).ToArray();
        return new BenchReport(model, latencies.Length, concurrency, served.Count(ok => !ok), counted.Length > 0 ? counted : latencies, wall, itemsPerRequest);
    }

    /// <summary>Items completed per second (jobs: items per job × jobs / wall time).</summary>
    public double ItemThroughput => ItemsPerRequest * LatenciesMs.Length / Wall.TotalSeconds;

    /// <summary>Requests (or jobs) sent before the measured ones.</summary>
    public int Warmup { get; init; }

    /// <summary>Callers the measured requests were sent as (0 where not counted: jobs).</summary>
    public int Callers { get; init; }

    public double Percentile(double p) => NearestRank(LatenciesMs.Order().ToArray(), p);

    /// <summary>Nearest-rank percentile of sorted values (0 when there are none).</summary>
    public static double NearestRank(double[] sorted, double p)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    /// <summary>Served requests a second (every request's when none was served).</summary>
    public double Throughput => LatenciesMs.Length / Wall.TotalSeconds;

    public void Print()
    {
        var table = new Table().AddColumn("model").AddColumn("requests").AddColumn("concurrency").AddColumn("failures")
            .AddColumn("p50 ms").AddColumn("p90 ms").AddColumn("p99 ms").AddColumn("max ms").AddColumn("req/s");
        table.AddRow(
            Model, Requests.ToString(System.Globalization.CultureInfo.InvariantCulture), Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Failures.ToString(System.Globalization.CultureInfo.InvariantCulture),
            F(Percentile(50)), F(Percentile(90)), F(Percentile(99)), F(LatenciesMs.Max()), F(Throughput));
        AnsiConsole.Write(table);
        Console.Out.WriteLine(string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"bench {Model}: requests={Requests} concurrency={Concurrency} failures={Failures} p50={Percentile(50):F2}ms p90={Percentile(90):F2}ms p95={Percentile(95):F2}ms p99={Percentile(99):F2}ms max={LatenciesMs.Max():F2}ms throughput={Throughput:F1}/s items={ItemThroughput:F1}/s warmup={Warmup}{(Callers > 0 ? $" callers={Callers}" : "")}"));
    }

    private static string F(double value) => value.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
}
