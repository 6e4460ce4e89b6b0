using System.Globalization;
using System.Text.Json;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Cli;

/// <summary>
/// <c>ssctl bench --matrix</c> against the running stack: raw ONNX Runtime, the inference app called directly with the
/// gateway's service token, and the gateway, interleaved; what it reports and writes. (Figures are not asserted: speed
/// is read from the benchmark, never from a test.)
/// </summary>
[Collection(StackCollection.Name)]
public sealed class BenchMatrixTests(StackFixture fixture)
{
    [StackFact]
    public async Task Matrix_EveryTargetEveryCell_AnsweredAndWrittenAsJson()
    {
        var output = Path.Combine(fixture.State.Directory, "bench-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        var run = await Ssctl.RunAsync(fixture, [.. Arguments(), "--out", output]);

        Assert.True(run.ExitCode == 0, run.Output);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
        // 1 model × 2 encodings × 2 concurrencies × 3 targets.
        Assert.Equal(12, results.Count);
        Assert.Equal(["gateway", "inference", "raw"], results.Select(r => r.GetProperty("target").GetString()).Distinct().Order());
        Assert.All(results, r =>
        {
            Assert.Equal(2 * 5, r.GetProperty("requests").GetInt32());
            Assert.Equal(0, r.GetProperty("failures").GetInt32());
            Assert.True(r.GetProperty("p50Ms").GetDouble() > 0);
            Assert.True(r.GetProperty("p99Ms").GetDouble() >= r.GetProperty("p50Ms").GetDouble());
        });
        Assert.Contains("bench-matrix credit-risk binary c=2 gateway: requests=10 failures=0", run.Output, StringComparison.Ordinal);

        // The gateway's own stage timings, read from its metrics (never from a response), are on the gateway's rows only;
        // the inference app's on the rows of the targets that reach it, raw's has neither. Where the bench cannot tell
        // which process is the fixture's app (under the Functions host several workers may run), it says so or reports
        // none for it; a cell may also end before the runtime's first publication.
        Assert.All(results.Where(r => r.GetProperty("target").GetString() != "gateway"), r => Assert.Equal(JsonValueKind.Null, r.GetProperty("stageP50Ms").ValueKind));
        Assert.All(results.Where(r => r.GetProperty("target").GetString() == "raw"), r => Assert.Equal(JsonValueKind.Null, r.GetProperty("inferenceAppStageP50Ms").ValueKind));
        Assert.All(
            results.Where(r => r.GetProperty("inferenceAppStageP50Ms").ValueKind == JsonValueKind.Object),
            r => Assert.Equal(
                ["(request)", "authenticate", "infer", "read", "resolve"],
                r.GetProperty("inferenceAppStageP50Ms").EnumerateObject().Select(p => p.Name).Where(n => n is "(request)" or "authenticate" or "infer" or "read" or "resolve").Order(StringComparer.Ordinal)));
        var withStages = results.Where(r => r.GetProperty("target").GetString() == "gateway" && r.GetProperty("stageP50Ms").ValueKind == JsonValueKind.Object).ToList();
        if (!run.Output.Contains("No stage timings", StringComparison.Ordinal))
        {
            Assert.NotEmpty(withStages);
        }

        Assert.All(withStages, r => Assert.Contains(r.GetProperty("stageP50Ms").EnumerateObject(), p => p.Name == "authenticate"));

        // Calls per request, from the counts of the same histograms, where the whole request's were published: every
        // gateway request calls the inference app. (Not exactly once here: in a cell of a few requests on a loaded
        // machine, one published second more or less of either histogram moves the ratio.)
        Assert.All(
            withStages.Where(r => r.GetProperty("httpCallsPerRequest").ValueKind == JsonValueKind.Object),
            r => Assert.Contains(r.GetProperty("httpCallsPerRequest").EnumerateObject(), p => p.Name == $"(http client 127.0.0.1:{fixture.Stack.InferenceBaseUrl.Port})" && p.Value.GetDouble() > 0));

        // Issue 13's overhead, read in one run: gateway over raw, the audit commit apart, for every cell with the audit stage.
        Assert.All(
            withStages.Where(r => r.GetProperty("stageP50Ms").TryGetProperty("audit", out _)),
            r => Assert.Matches(
                $@"overhead credit-risk {r.GetProperty("encoding").GetString()} c={r.GetProperty("concurrency").GetInt32()}: gateway - raw = [0-9.]+ ms \(audit commit [0-9.]+ ms, the rest -?[0-9.]+ ms\), gateway / raw = [0-9.]+",
                run.Output));
    }

    [StackFact]
    public async Task Matrix_AtAFixedRate_MeasuresFromWhenEachRequestWasDue()
    {
        var output = Path.Combine(fixture.State.Directory, "bench-rate-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        // One cell, few requests: this lane's stack is shared with other tests, and the bench must not load it for them.
        var run = await Ssctl.RunAsync(fixture, [.. Arguments(encodings: "binary", concurrencies: "1"), "--rate", "50", "--out", output]);

        Assert.True(run.ExitCode == 0, run.Output);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        Assert.All(json.RootElement.GetProperty("results").EnumerateArray(), r =>
        {
            Assert.Equal(50, r.GetProperty("rateRequested").GetDouble());
            Assert.Equal(0, r.GetProperty("failures").GetInt32());
            Assert.Equal(2 * 5, r.GetProperty("requests").GetInt32());
        });
    }

    [StackFact]
    public async Task Matrix_TargetsAndRowsChosen_OnlyThoseCellsEachRequestCarryingItsRows()
    {
        var output = Path.Combine(fixture.State.Directory, "bench-rows-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        // Run as a user piping it to a file (no COLUMNS): the table's rows are not folded at 80 columns.
        var run = await Ssctl.RunWithoutColumnsAsync(fixture, [.. Arguments(encodings: "binary", concurrencies: "1"), "--targets", "raw,inference", "--rows", "1,3", "--out", output]);

        Assert.True(run.ExitCode == 0, run.Output);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
        // 1 model × 1 encoding × 2 row counts × 1 concurrency × 2 targets; a refused request of 3 rows would be a failure.
        Assert.Equal(4, results.Count);
        Assert.Equal(["inference", "raw"], results.Select(r => r.GetProperty("target").GetString()).Distinct().Order());
        Assert.Equal([1, 3], results.Select(r => r.GetProperty("rows").GetInt32()).Distinct().Order());
        Assert.All(results, r => Assert.Equal(0, r.GetProperty("failures").GetInt32()));
        Assert.Contains("bench-matrix credit-risk binary rows=3 c=1 inference: requests=10 failures=0", run.Output, StringComparison.Ordinal);
        Assert.Matches(@"[│|] credit-risk +[│|] binary +[│|] 3 +[│|] 1 +[│|] inference +[│|] 10 +[│|] 0 +[│|]", run.Output);
        Assert.Matches(@"[│|] vs raw p50 +[│|]", run.Output);
    }

    [StackFact]
    public async Task Matrix_GatewayTarget_ANewCallerEveryCallerRowsRows()
    {
        var output = Path.Combine(fixture.State.Directory, "bench-callers-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        // 2 warm-up and 2 × 5 measured requests a cell. A caller sends 4 rows: 4 requests of one row (3 callers a cell),
        // or one of 3 rows (12 callers a cell). Every new caller is let through.
        var run = await Ssctl.RunAsync(
            fixture,
            [.. Arguments(encodings: "binary", concurrencies: "1,2"), "--targets", "gateway", "--rows", "1,3", "--warmup", "2", "--caller-rows", "4", "--out", output]);

        Assert.True(run.ExitCode == 0, run.Output);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(4, results.Count);
        Assert.All(results, r =>
        {
            Assert.Equal(0, r.GetProperty("failures").GetInt32());
            Assert.Equal(r.GetProperty("rows").GetInt32() == 1 ? 3 : 12, r.GetProperty("callers").GetInt32());
        });
        Assert.Contains("bench-matrix credit-risk binary rows=3 c=2 gateway: requests=10 failures=0", run.Output, StringComparison.Ordinal);
        Assert.Contains("callers=12", run.Output, StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Matrix_JobTarget_EachRequestIsADurableJobAwaitedToCompletion()
    {
        var output = Path.Combine(fixture.State.Directory, "bench-job-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        // Two items a job and four rows a caller: two jobs a caller. The cell's twelve jobs (two of warm-up, ten measured,
        // counted together as for the gateway target) go as six callers, each submitting and polling its own jobs.
        var run = await Ssctl.RunAsync(fixture, [.. Arguments(encodings: "binary", concurrencies: "1"), "--targets", "job", "--job-items", "2", "--warmup", "2", "--caller-rows", "4", "--out", output]);

        Assert.True(run.ExitCode == 0, run.Output);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var result = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal("job", result.GetProperty("target").GetString());
        Assert.Equal(2, result.GetProperty("jobItems").GetInt32());
        Assert.Equal(0, result.GetProperty("failures").GetInt32());
        Assert.Equal(2 * 5, result.GetProperty("requests").GetInt32());
        Assert.Equal(6, result.GetProperty("callers").GetInt32());
    }

    [StackFact]
    public async Task Bench_Warmup_SentFirstAndNotMeasured()
    {
        var before = await fixture.RequestRecordCountAsync();

        var run = await Ssctl.RunAsync(fixture,
        [
            "bench", "--requests", "3", "--concurrency", "1", "--warmup", "4",
            "--url", fixture.Stack.GatewayBaseUrl.ToString(), "--state", fixture.State.Directory,
        ]);

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("requests=3 concurrency=1 failures=0", run.Output, StringComparison.Ordinal);
        Assert.Contains("warmup=4", run.Output, StringComparison.Ordinal);
        // Seven requests reached the gateway and were audited: the four of the warm-up, then the three measured.
        Assert.Equal(before + 7, await fixture.RequestRecordCountAsync());
    }

    [StackFact]
    public async Task Bench_Plain_ANewCallerEveryCallerRowsRows()
    {
        var run = await Ssctl.RunAsync(fixture,
        [
            "bench", "--requests", "6", "--concurrency", "1", "--warmup", "1", "--caller-rows", "2",
            "--url", fixture.Stack.GatewayBaseUrl.ToString(), "--state", fixture.State.Directory,
        ]);

        // Requests 0 (the warm-up) to 6, two to a caller: the six measured were sent as callers 0 to 3.
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("requests=6 concurrency=1 failures=0", run.Output, StringComparison.Ordinal);
        Assert.Contains("callers=4", run.Output, StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Matrix_Chunked_InferenceAndGatewayAnswerBodiesWithoutALength()
    {
        var output = Path.Combine(fixture.State.Directory, "bench-chunked-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        var run = await Ssctl.RunAsync(fixture, [.. Arguments(encodings: "binary", concurrencies: "1"), "--targets", "inference,gateway", "--chunked", "--out", output]);

        Assert.True(run.ExitCode == 0, run.Output);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        Assert.True(json.RootElement.GetProperty("options").GetProperty("chunked").GetBoolean());
        var results = json.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["gateway", "inference"], results.Select(r => r.GetProperty("target").GetString()).Order());
        Assert.All(results, r => Assert.Equal(0, r.GetProperty("failures").GetInt32()));
    }

    [StackFact]
    public async Task Bench_Chunked_BodyOnTheWireWithoutAContentLength()
    {
        // What the bench puts on the wire, read by a listener of the test's own in place of the gateway.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var received = ReceiveOneRequestAsync(listener);

        var run = await Ssctl.RunAsync(fixture,
        [
            "bench", "--model", "credit-risk", "--binary", "--chunked", "--requests", "1", "--concurrency", "1", "--warmup", "0",
            "--url", $"http://127.0.0.1:{port}/api/", "--state", fixture.State.Directory,
        ]);

        Assert.True(run.ExitCode == 0, run.Output);
        var (head, body) = await received.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("POST /api/v2/models/credit-risk/infer HTTP/1.1\r\n", head, StringComparison.Ordinal);
        Assert.Contains("\r\nTransfer-Encoding: chunked\r\n", head, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\r\nContent-Length:", head, StringComparison.OrdinalIgnoreCase);
        var headerLength = int.Parse(
            head.Split("\r\n").Single(l => l.StartsWith("Inference-Header-Content-Length:", StringComparison.OrdinalIgnoreCase))["Inference-Header-Content-Length:".Length..].Trim(),
            CultureInfo.InvariantCulture);
        // The binary extension's JSON header, then credit-risk's four FP32 features.
        Assert.Equal(headerLength + (4 * sizeof(float)), body.Length);
        Assert.Contains("\"binary_data_size\":16", System.Text.Encoding.UTF8.GetString(body, 0, headerLength), StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Matrix_UnknownTarget_Refused()
    {
        var run = await Ssctl.RunAsync(fixture, [.. Arguments(), "--targets", "raw,triton"]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("Unknown target 'triton'", run.Output, StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Matrix_InferenceUrlNotLoopback_Refused()
    {
        var run = await Ssctl.RunAsync(fixture, [.. Arguments(inferenceUrl: new Uri("http://example.com/api/"))]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("loopback addresses only", run.Output, StringComparison.Ordinal);
    }

    // Reads one HTTP/1.1 request (a declared or a chunked body) and answers 200 with no body.
    private static async Task<(string Head, byte[] Body)> ReceiveOneRequestAsync(System.Net.Sockets.TcpListener listener)
    {
        using var socket = await listener.AcceptSocketAsync();
        using var stream = new System.Net.Sockets.NetworkStream(socket);
        using var reader = new BufferedStream(stream);
        var head = ReadUntil(reader, "\r\n\r\n");
        using var body = new MemoryStream();
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (lengthLine is not null)
        {
            await CopyExactlyAsync(reader, body, int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture));
        }
        else
        {
            int size;
            do
            {
                size = Convert.ToInt32(ReadUntil(reader, "\r\n").TrimEnd().Split(';')[0], 16);
                await CopyExactlyAsync(reader, body, size);
                ReadUntil(reader, "\r\n"); // the chunk's CRLF; after the last, empty chunk, the end of the trailers
            }
            while (size > 0);
        }

        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
        return (head, body.ToArray());
    }

    private static string ReadUntil(Stream stream, string end)
    {
        var text = new System.Text.StringBuilder();
        while (!text.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            var b = stream.ReadByte();
            Assert.True(b >= 0, "the connection closed inside the request");
            text.Append((char)b);
        }

        return text.ToString();
    }

    private static async Task CopyExactlyAsync(Stream from, Stream to, int count)
    {
        var buffer = new byte[count];
        await from.ReadExactlyAsync(buffer);
        await to.WriteAsync(buffer);
    }

    private string[] Arguments(Uri? inferenceUrl = null, string encodings = "json,binary", string concurrencies = "1,2") =>
    [
        "bench", "--matrix", "--models", "credit-risk", "--encodings", encodings, "--concurrencies", concurrencies, "--rounds", "2", "--requests", "5",
        "--url", fixture.Stack.GatewayBaseUrl.ToString(), "--inference-url", (inferenceUrl ?? fixture.Stack.InferenceBaseUrl).ToString(),
        "--issuer-port", new Uri(fixture.Stack.Issuer.Issuer).Port.ToString(CultureInfo.InvariantCulture), "--state", fixture.State.Directory,
    ];
}
