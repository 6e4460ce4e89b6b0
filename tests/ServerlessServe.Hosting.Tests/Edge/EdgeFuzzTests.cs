using System.Globalization;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Audit;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local.Fuzz;
using Xunit.Abstractions;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The edge fuzzer (<see cref="EdgeFuzzer"/>, also <c>ssctl fuzz edge</c>) against the in-process gateway: a few
/// thousand generated mutations of valid V2 requests, none answered 5xx, none left unanswered, every refusal with the V2
/// error body; every accepted job ended well, each of its items with exactly one audit record in a verified chain; a
/// third of them had their routes probed (another caller, mutated ids, odd headers) and answered as they promise. <c>SERVERLESSSERVE_FUZZ_CASES</c> and <c>SERVERLESSSERVE_FUZZ_SEED</c> make it the long run.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class EdgeFuzzTests(InProcessStack stack, ITestOutputHelper output)
{
    [Fact]
    public async Task GeneratedMutations_NoServerErrorNoHangAndErrorBodies()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SERVERLESSSERVE_FUZZ_CASES"), CultureInfo.InvariantCulture, out var configured) ? configured : 3000;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SERVERLESSSERVE_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261130;
        var jobsEvery = int.TryParse(Environment.GetEnvironmentVariable("SERVERLESSSERVE_FUZZ_JOBS_EVERY"), CultureInfo.InvariantCulture, out var j) ? j : 8;
        using var client = stack.Client(subject: null);
        // Tokens outlive the run (the issuer's longest, 24 h), so a long run keeps reaching the stages behind authentication.
        var tokens = Enumerable.Range(0, 32).Select(i => stack.Issuer.Mint("fuzz-" + i.ToString(CultureInfo.InvariantCulture), [], TimeSpan.FromHours(23))).ToList();

        var report = await new EdgeFuzzer(seed) { JobsEvery = jobsEvery }.RunAsync(client, tokens, cases, parallelism: 16, timeBound: TimeSpan.FromHours(2), requestTimeout: TimeSpan.FromSeconds(60));

        output.WriteLine($"seed {seed}: {report.Cases} cases in {report.Elapsed.TotalSeconds:F1} s; statuses {string.Join(", ", report.Statuses.Select(p => $"{p.Key}×{p.Value}"))}; jobs followed {report.JobsFollowed}");
        Assert.Equal(cases, report.Cases);
        Assert.True(report.ServerErrors.Count == 0, string.Join('\n', report.ServerErrors.Take(20).Select(e => $"case {e.Index} ({e.Mutation}): {e.Status} {e.Body}")));
        Assert.True(report.Hangs.Count == 0, string.Join('\n', report.Hangs.Take(20).Select(h => $"case {h.Index} ({h.Mutation})")));
        Assert.True(report.MalformedErrorBodies.Count == 0, string.Join('\n', report.MalformedErrorBodies.Take(20).Select(h => $"case {h.Index} ({h.Mutation}): {h.Status}")));
        Assert.True(report.JobFindings.Count == 0, string.Join('\n', report.JobFindings.Take(20).Select(j => $"case {j.Index} ({j.Mutation}): {j.Problem}")));
        Assert.True(jobsEvery == 0 || report.JobsFollowed >= cases / jobsEvery / 5, $"only {report.JobsFollowed} jobs accepted and followed");
        output.WriteLine($"jobs whose routes were probed: {report.JobsProbed}");
        Assert.True(report.RouteFindings.Count == 0, string.Join('\n', report.RouteFindings.Take(20).Select(j => $"case {j.Index} ({j.Mutation}): {j.Problem}")));
        Assert.True(jobsEvery == 0 || report.JobsProbed >= report.JobsFollowed / 5, $"only {report.JobsProbed} of {report.JobsFollowed} jobs had their routes probed");

        // Nothing lost: every item of every job that ended has exactly one audit record, in chains the verifier accepts.
        var records = (await stack.AuditLinesAsync())
            .Select(line => AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out _) ? record!.RequestId : null)
            .Where(id => id is not null)
            .GroupBy(id => id!.Split('.')[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        // A cancelled job: at most one record per item, none for an item it does not have.
        var wrong = report.EndedJobs
            .Where(j => records.GetValueOrDefault(j.Id!, []) is var ids && (j.Cancelled
                ? ids.Distinct().Count() != ids.Count || ids.Except(ItemIds(j)).Any()
                : !ids.SequenceEqual(ItemIds(j).Order(StringComparer.Ordinal))))
            .Select(j => $"job {j.Id} of {j.Items} items{(j.Cancelled ? ", cancelled" : "")}: {string.Join(", ", records.GetValueOrDefault(j.Id!, []))}")
            .ToList();
        output.WriteLine($"jobs ended: {report.EndedJobs.Count(j => !j.Cancelled)} completed, {report.EndedJobs.Count(j => j.Cancelled)} cancelled");
        Assert.True(wrong.Count == 0, string.Join('\n', wrong.Take(20)));
        var verified = await AuditVerifier.VerifyAsync(stack.Audit, [stack.AuditKey], CancellationToken.None);
        for (var attempt = 0; attempt < 50 && !verified.Chains.All(c => c.Ok); attempt++)
        {
            // The log is live: a chain's newest checkpoint may still be on its way.
            await Task.Delay(200);
            verified = await AuditVerifier.VerifyAsync(stack.Audit, [stack.AuditKey], CancellationToken.None);
        }

        Assert.True(verified.Chains.All(c => c.Ok), string.Join("; ", verified.Chains.Where(c => !c.Ok).Select(c => c.ToString())));
    }

    private static IEnumerable<string> ItemIds(JobEnding job) => Enumerable.Range(0, job.Items).Select(i => $"{job.Id}.{i}");

    [Fact]
    public void Case_SameSeedAndIndex_SameRequest()
    {
        var a = new EdgeFuzzer(7).Case(1234);
        var b = new EdgeFuzzer(7).Case(1234);

        Assert.Equal((a.Mutation, a.Method, a.Path), (b.Mutation, b.Method, b.Path));
        Assert.Equal(a.Body, b.Body);
        Assert.Equal(a.Headers, b.Headers);
    }

    [Fact]
    public void Case_JobsDrawnApart_InferCasesTheSameWithOrWithoutThem()
    {
        var withJobs = new EdgeFuzzer(7);
        var without = new EdgeFuzzer(7) { JobsEvery = 0 };

        var cases = Enumerable.Range(0, 4000).Select(i => (Job: withJobs.IsJob(i), With: withJobs.Case(i), Without: without.Case(i))).ToList();

        Assert.InRange(cases.Count(c => c.Job), 4000 / 8 * 0.8, 4000 / 8 * 1.2);
        var cancelled = Enumerable.Range(0, 4000).Count(i => withJobs.IsJob(i) && withJobs.CancelsJob(i));
        Assert.InRange(cancelled, cases.Count(c => c.Job) / 6 * 0.6, cases.Count(c => c.Job) / 6 * 1.4);
        Assert.All(cases.Where(c => c.Job && !c.With.Mutation.Contains("path", StringComparison.Ordinal)), c => Assert.EndsWith("/jobs", c.With.Path, StringComparison.Ordinal));
        Assert.DoesNotContain(cases, c => !c.Job && c.With.Path.EndsWith("/jobs", StringComparison.Ordinal) && !c.With.Mutation.Contains("path", StringComparison.Ordinal));
        foreach (var (_, with, plain) in cases.Where(c => !c.Job))
        {
            Assert.Equal((plain.Mutation, plain.Method, plain.Path), (with.Mutation, with.Method, with.Path));
            Assert.Equal(plain.Body, with.Body);
            Assert.Equal(plain.Headers, with.Headers);
        }
    }

    [Theory]
    [InlineData("""{"id":"j1","status":"failed"}""", "ended failed")]
    [InlineData("""{"id":"j1","status":"cancelled","items":1,"done":0}""", "ended cancelled")]
    [InlineData("""{"status":"pending"}""", "accepted without a job id")]
    [InlineData("""not json""", "accepted with a body that is not JSON")]
    [InlineData("""{"id":"j1","status":"completed","items":2,"results":[{"index":0,"outcome":"invalid","error":"x"}]}""", "completed with 1 results for 2 items")]
    [InlineData("""{"id":"j1","status":"completed","items":1,"results":[{"index":0,"outcome":"released"}]}""", "result 0 malformed")]
    [InlineData("""{"id":"j1","status":"completed","items":1,"results":[{"index":0,"outcome":"invalid"}]}""", "result 0 malformed")]
    [InlineData("""{"id":"j1","status":"completed","items":1,"results":[{"index":0,"outcome":"invalid","error":"x","response":{"outputs":[]}}]}""", "result 0 malformed")]
    [InlineData("""{"id":"j1","status":"completed","items":2,"results":[{"index":1,"outcome":"invalid","error":"x"},{"index":0,"outcome":"invalid","error":"x"}]}""", "result 0 malformed")]
    [InlineData("""{"id":"j1","status":"completed","items":1}""", "completed without items and results")]
    public async Task FollowJob_EndedWrong_Found(string answer, string problem)
    {
        using var client = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9/") };

        var found = (await EdgeFuzzer.FollowJobAsync(client, "token", answer, TimeSpan.FromSeconds(5), cancel: false, CancellationToken.None)).Problem;

        Assert.NotNull(found);
        Assert.StartsWith(problem, found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FollowJob_CompletedWithAWellFormedResultPerItem_NothingFound()
    {
        using var client = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:9/") };
        const string answer = """{"id":"j1","status":"completed","items":2,"done":2,"results":[{"index":0,"outcome":"released","response":{"model_name":"m","outputs":[]}},{"index":1,"outcome":"invalid","error":"bad"}]}""";

        Assert.Equal(new JobEnding(null, "j1", 2, false), await EdgeFuzzer.FollowJobAsync(client, "token", answer, TimeSpan.FromSeconds(5), cancel: false, CancellationToken.None));
    }

    /// <summary>
    /// A job its follower cancelled ends well as "cancelled" with its items and either no results (cancelled before it
    /// ran) or one well-formed result for each item it audited, in order ("done" of them; since 2026-12-08 a cancelled
    /// job hands back what it released before the cancel was seen).
    /// </summary>
    [Theory]
    [InlineData("""{"id":"j1","status":"cancelled","items":3,"done":0}""", "")]
    [InlineData("""{"id":"j1","status":"cancelled","items":3,"done":2,"results":[{"index":0,"outcome":"released","response":{"outputs":[]}},{"index":1,"outcome":"cancelled","error":"x"}]}""", "")]
    [InlineData("""{"id":"j1","status":"cancelled","items":3,"done":2,"results":[{"index":0,"outcome":"cancelled","error":"x"}]}""", "cancelled with 1 results for 2 items")]
    [InlineData("""{"id":"j1","status":"cancelled","items":3,"results":[{"index":0,"outcome":"cancelled","error":"x"}]}""", "cancelled with results but no count")]
    [InlineData("""{"id":"j1","status":"cancelled","items":1,"done":2,"results":[]}""", "cancelled with results but no count")]
    [InlineData("""{"id":"j1","status":"cancelled","items":2,"done":1,"results":[{"index":0,"outcome":"released"}]}""", "result 0 malformed")]
    [InlineData("""{"id":"j1","status":"cancelled","done":1}""", "cancelled without its items")]
    public void JudgeSettled_CancelledJob_ResultsOfWhatItAudited(string status, string problem)
    {
        using var document = JsonDocument.Parse(status);

        var found = EdgeFuzzer.JudgeSettled(document.RootElement, cancelled: true, out var items);

        Assert.NotNull(found);
        if (problem.Length == 0)
        {
            Assert.Equal("", found);
        }
        else
        {
            Assert.StartsWith(problem, found, StringComparison.Ordinal);
        }

        Assert.Equal(problem.Length == 0 ? document.RootElement.GetProperty("items").GetInt32() : 0, items);
    }
}
