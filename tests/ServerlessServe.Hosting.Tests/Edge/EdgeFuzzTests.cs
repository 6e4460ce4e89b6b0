using System.Globalization;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local.Fuzz;
using Xunit.Abstractions;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The edge fuzzer (<see cref="EdgeFuzzer"/>, also <c>ssctl fuzz edge</c>) against the in-process gateway: a few
/// thousand generated mutations of valid V2 requests, none answered 5xx, none left unanswered, every refusal with the V2
/// error body. <c>SERVERLESSSERVE_FUZZ_CASES</c> and <c>SERVERLESSSERVE_FUZZ_SEED</c> make it the long run.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class EdgeFuzzTests(InProcessStack stack, ITestOutputHelper output)
{
    [Fact]
    public async Task GeneratedMutations_NoServerErrorNoHangAndErrorBodies()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SERVERLESSSERVE_FUZZ_CASES"), CultureInfo.InvariantCulture, out var configured) ? configured : 3000;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SERVERLESSSERVE_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261130;
        using var client = stack.Client(subject: null);
        // Tokens outlive the run (the issuer's longest, 24 h), so a long run keeps reaching the stages behind authentication.
        var tokens = Enumerable.Range(0, 32).Select(i => stack.Issuer.Mint("fuzz-" + i.ToString(CultureInfo.InvariantCulture), [], TimeSpan.FromHours(23))).ToList();

        var report = await new EdgeFuzzer(seed).RunAsync(client, tokens, cases, parallelism: 16, timeBound: TimeSpan.FromHours(2), requestTimeout: TimeSpan.FromSeconds(60));

        output.WriteLine($"seed {seed}: {report.Cases} cases in {report.Elapsed.TotalSeconds:F1} s; statuses {string.Join(", ", report.Statuses.Select(p => $"{p.Key}×{p.Value}"))}");
        Assert.Equal(cases, report.Cases);
        Assert.True(report.ServerErrors.Count == 0, string.Join('\n', report.ServerErrors.Take(20).Select(e => $"case {e.Index} ({e.Mutation}): {e.Status} {e.Body}")));
        Assert.True(report.Hangs.Count == 0, string.Join('\n', report.Hangs.Take(20).Select(h => $"case {h.Index} ({h.Mutation})")));
        Assert.True(report.MalformedErrorBodies.Count == 0, string.Join('\n', report.MalformedErrorBodies.Take(20).Select(h => $"case {h.Index} ({h.Mutation}): {h.Status}")));
    }

    [Fact]
    public void Case_SameSeedAndIndex_SameRequest()
    {
        var a = new EdgeFuzzer(7).Case(1234);
        var b = new EdgeFuzzer(7).Case(1234);

        Assert.Equal((a.Mutation, a.Method, a.Path), (b.Mutation, b.Method, b.Path));
        Assert.Equal(a.Body, b.Body);
        Assert.Equal(a.Headers, b.Headers);
    }
}
