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
            Assert.Equal(2 * 10, r.GetProperty("requests").GetInt32());
            Assert.Equal(0, r.GetProperty("failures").GetInt32());
            Assert.True(r.GetProperty("p50Ms").GetDouble() > 0);
            Assert.True(r.GetProperty("p99Ms").GetDouble() >= r.GetProperty("p50Ms").GetDouble());
        });
        Assert.Contains("bench-matrix credit-risk binary c=2 gateway: requests=20 failures=0", run.Output, StringComparison.Ordinal);

        // The gateway's own stage timings, read from its metrics (never from a response): only the gateway's rows carry them.
        Assert.All(results.Where(r => r.GetProperty("target").GetString() == "gateway"), r =>
        {
            var stages = r.GetProperty("stageP50Ms").EnumerateObject().Select(p => p.Name).ToList();
            Assert.Superset(new HashSet<string>(["authenticate", "validate", "infer", "redact", "audit"]), stages.ToHashSet());
        });
        Assert.All(results.Where(r => r.GetProperty("target").GetString() != "gateway"), r => Assert.Equal(JsonValueKind.Null, r.GetProperty("stageP50Ms").ValueKind));
    }

    [StackFact]
    public async Task Matrix_AtAFixedRate_MeasuresFromWhenEachRequestWasDue()
    {
        var output = Path.Combine(fixture.State.Directory, "bench-rate-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        var run = await Ssctl.RunAsync(fixture, [.. Arguments(), "--rate", "100", "--out", output]);

        Assert.True(run.ExitCode == 0, run.Output);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        Assert.All(json.RootElement.GetProperty("results").EnumerateArray(), r =>
        {
            Assert.Equal(100, r.GetProperty("rateRequested").GetDouble());
            Assert.Equal(0, r.GetProperty("failures").GetInt32());
            Assert.Equal(2 * 10, r.GetProperty("requests").GetInt32());
        });
    }

    [StackFact]
    public async Task Matrix_InferenceUrlNotLoopback_Refused()
    {
        var run = await Ssctl.RunAsync(fixture, [.. Arguments(inferenceUrl: new Uri("http://example.com/api/"))]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("loopback addresses only", run.Output, StringComparison.Ordinal);
    }

    private string[] Arguments(Uri? inferenceUrl = null) =>
    [
        "bench", "--matrix", "--models", "credit-risk", "--encodings", "json,binary", "--concurrencies", "1,2", "--rounds", "2", "--requests", "10",
        "--url", fixture.Stack.GatewayBaseUrl.ToString(), "--inference-url", (inferenceUrl ?? fixture.Stack.InferenceBaseUrl).ToString(),
        "--issuer-port", new Uri(fixture.Stack.Issuer.Issuer).Port.ToString(CultureInfo.InvariantCulture), "--state", fixture.State.Directory,
    ];
}
