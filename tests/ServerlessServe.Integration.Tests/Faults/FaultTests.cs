using System.Net;
using System.Text.Json;
using ServerlessServe.Integration.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerlessServe.Integration.Tests.Faults;

/// <summary>
/// Faults under load (docs/design.md, "Deadlines and fail-fast"): the gateway's store paused or slowed, the inference app
/// killed mid-request, the gateway killed and restarted. Each ends with the same checks: no lost record (every 200 has
/// exactly one released record), no duplicate (no request has two), a 503 whose record says released is followed by a
/// withheld notice, and <c>ssctl audit verify</c> passes.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class FaultTests(StackFixture fixture, ITestOutputHelper output)
{
    /// <summary>The pair's request budget (5 s) plus the audit's own deadline (2 s), plus room for a busy machine.</summary>
    private static readonly TimeSpan AnswerBound = TimeSpan.FromSeconds(5 + 2 + 5);

    [StackFact]
    public async Task StorePausedDuringLoad_CallersGet503WithinTheBudget_NothingLostOrDuplicated()
    {
        TimeSpan paused = default, resumed = default;
        var answers = await UnderLoadAsync(
            async (pair, load) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                (load.Phase, paused) = ("paused", load.Now);
                pair.Pause(true);

                // Long enough that requests sent after the pause began are answered before it ends, even when every
                // client was held by one sent just before it (each refused within the 5 s budget plus the 2 s audit deadline).
                await Task.Delay(TimeSpan.FromSeconds(20));
                (load.Phase, resumed) = ("resumed", load.Now);
                pair.Pause(false);
                await Task.Delay(TimeSpan.FromSeconds(4));
            },
            pair => pair.Pause(false));

        // Whatever was sent and answered while the store was paused was refused, and nobody waited past the budget.
        var duringPause = answers.Where(a => a.Sent >= paused && a.Answered <= resumed).ToList();
        Assert.NotEmpty(duringPause);
        Assert.All(duringPause, a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        Assert.All(answers, a => Assert.True(a.Elapsed < AnswerBound, $"an answer took {a.Elapsed}"));
        Assert.Contains(answers, a => a.Phase == "resumed" && a.Status == HttpStatusCode.OK);
        await AssertAuditedExactlyOnceAsync(answers);
    }

    [StackFact]
    public async Task StoreSlowedTenfold_RequestsServed_NothingLostOrDuplicated()
    {
        var answers = await UnderLoadAsync(
            async (pair, load) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                load.Phase = "slow";
                pair.Slow(TimeSpan.FromMilliseconds(25));
                await Task.Delay(TimeSpan.FromSeconds(6));
            },
            pair => pair.Slow(TimeSpan.Zero));

        Assert.Contains(answers, a => a.Phase == "slow");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        await AssertAuditedExactlyOnceAsync(answers);
    }

    [StackFact]
    public async Task InferenceAppKilledMidRequest_503ThenServedAgain_NothingLostOrDuplicated()
    {
        var answers = await UnderLoadAsync(async (pair, load) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            load.Phase = "killed";

            // Under the Functions host the host process dies, and its worker must stop by itself, not run on orphaned.
            Assert.Empty(await fixture.Stack.CrashInferenceAloneAsync(pair.Apps));
            await Task.Delay(TimeSpan.FromSeconds(3));
            using (var restart = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            {
                await fixture.Stack.StartInferenceAsync(pair.Apps, restart.Token);
            }

            // Served again once the app is back and the gateway's breaker lets calls through (InferenceBreakDuration).
            load.Phase = "restarted";
            await load.WaitForAsync(a => a.Phase == "restarted" && a.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        });

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"status {(int)a.Status}"));
        Assert.Contains(answers, a => a.Phase == "killed" && a.Status == HttpStatusCode.ServiceUnavailable);
        Assert.Contains(answers, a => a.Phase == "restarted" && a.Status == HttpStatusCode.OK);
        Assert.All(answers, a => Assert.True(a.Elapsed < AnswerBound, $"an answer took {a.Elapsed}"));
        await AssertAuditedExactlyOnceAsync(answers);
    }

    [StackFact]
    public async Task GatewayKilledAndRestartedDuringLoad_NothingLostOrDuplicated()
    {
        var answers = await UnderLoadAsync(async (pair, load) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            load.Phase = "killed";
            await fixture.Stack.CrashGatewayAsync(pair.Apps);
            using (var restart = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            {
                await fixture.Stack.StartGatewayAsync(pair.Apps, restart.Token);
            }

            load.Phase = "restarted";
            await load.WaitForAsync(a => a.Phase == "restarted" && a.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        });

        Assert.Contains(answers, a => a.Phase == "before" && a.Status == HttpStatusCode.OK);
        Assert.Contains(answers, a => a.Phase == "restarted" && a.Status == HttpStatusCode.OK);
        Assert.All(answers, a => Assert.True(a.Status is 0 or HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"status {(int)a.Status}"));
        await AssertAuditedExactlyOnceAsync(answers);
    }

    [StackFact]
    public async Task InferenceAppRestart_ItsPortTakenMeanwhile_RefusedWithTheReason_ThenServedAgain()
    {
        // While the app was down, something else began to listen on its port (another test process's app once did). The
        // restart must say so, not count that listener's answers as the app's readiness while the app exits unbound.
        var pair = await FaultyStoragePair.GetAsync(fixture);
        await fixture.Stack.CrashInferenceAsync(pair.Apps);
        using (var intruder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, pair.Apps.InferencePort))
        {
            intruder.Start();
            using var start = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.Stack.StartInferenceAsync(pair.Apps, start.Token));
            Assert.Contains($"another process listens on port {pair.Apps.InferencePort}", error.Message, StringComparison.Ordinal);
        }

        // Once the port is let go of, the app starts there again and the pair serves.
        using (var restart = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            await fixture.Stack.StartInferenceAsync(pair.Apps, restart.Token);
        }

        await LoadRun.WarmUpAsync(pair.Apps.GatewayBaseUrl, fixture.CallerToken);
    }

    /// <summary>
    /// Warms the faulty pair up, keeps load on it while <paramref name="faults"/> runs, undoes the fault
    /// (<paramref name="undo"/>) whatever happened, and returns every answer (reported to the test output).
    /// </summary>
    private async Task<IReadOnlyList<LoadRun.Answer>> UnderLoadAsync(Func<FaultyStoragePair, LoadRun, Task> faults, Action<FaultyStoragePair>? undo = null)
    {
        var pair = await FaultyStoragePair.GetAsync(fixture);
        await LoadRun.WarmUpAsync(pair.Apps.GatewayBaseUrl, fixture.CallerToken);
        var load = LoadRun.Start(pair.Apps.GatewayBaseUrl, fixture.CallerToken);
        IReadOnlyList<LoadRun.Answer> answers;
        try
        {
            await faults(pair, load);
        }
        finally
        {
            undo?.Invoke(pair);
            answers = await load.StopAsync();
        }

        Report(answers, pair);
        return answers;
    }

    private void Report(IReadOnlyList<LoadRun.Answer> answers, FaultyStoragePair pair)
    {
        // The gateway's warnings and errors, for the test output when something fails.
        try
        {
            var lines = StackFixture.ReadLog(pair.Apps.GatewayLog).Split('\n');
            var shown = lines.Select((line, i) => (line, i))
                .Where(static x => x.line.StartsWith("warn:", StringComparison.Ordinal) || x.line.StartsWith("fail:", StringComparison.Ordinal) || x.line.StartsWith("crit:", StringComparison.Ordinal))
                .TakeLast(4000)
                .Select(x => x.line + (x.i + 1 < lines.Length ? " | " + lines[x.i + 1].Trim() : ""));
            output.WriteLine(string.Join('\n', shown));
        }
        catch (IOException)
        {
            // No log to show.
        }

        foreach (var phase in answers.GroupBy(a => a.Phase))
        {
            var times = phase.Select(a => a.Elapsed.TotalMilliseconds).Order().ToList();
            output.WriteLine(
                $"{phase.Key}: {phase.Count()} answers, statuses {string.Join(", ", phase.GroupBy(a => (int)a.Status).Select(g => $"{g.Key}×{g.Count()}"))}, "
                + $"p50 {times[times.Count / 2]:F1} ms, max {times[^1]:F1} ms");
        }
    }

    /// <summary>
    /// Every 200 has exactly one released record and no withheld notice; no request has two records; a 503 whose
    /// record says released is followed by a withheld notice; the whole log verifies.
    /// </summary>
    private async Task AssertAuditedExactlyOnceAsync(IReadOnlyList<LoadRun.Answer> answers)
    {
        var served = answers.Where(a => a.Status == HttpStatusCode.OK).Select(a => a.RequestId!).ToList();
        var refusedIds = answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable && a.RequestId is not null).Select(a => a.RequestId!).ToList();
        Dictionary<string, List<(string Operation, string Outcome)>> byRequest = [];
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (true)
            {
                byRequest = (await fixture.AuditLinesAsync())
                    .Select(static line => JsonDocument.Parse(line).RootElement)
                    .Where(static r => r.GetProperty("writer").GetString() == FaultyStoragePair.WriterId)
                    .GroupBy(static r => r.GetProperty("requestId").GetString()!)
                    .ToDictionary(g => g.Key, g => g.Select(static r => (r.GetProperty("operation").GetString()!, r.GetProperty("outcome").GetString()!)).ToList());
                // Every served record is in, and every late-committed record of a refused request has its withheld notice,
                // which the sink appends in a group after the record's own (until the 60 s are up; then the checks below say what is missing).
                if (served.All(byRequest.ContainsKey)
                    && refusedIds.All(id => !byRequest.TryGetValue(id, out var records) || !records.Contains(("infer", "released")) || records.Contains(("withheld", "unavailable"))))
                {
                    break;
                }

                await Task.Delay(200, wait.Token);
            }
        }

        foreach (var id in served)
        {
            Assert.Equal([("infer", "released")], byRequest[id]);
        }

        foreach (var (id, records) in byRequest)
        {
            Assert.True(records.Count(static r => r.Operation == "infer") <= 1, $"request {id} has {records.Count} records");
        }

        foreach (var refused in answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable && a.RequestId is not null))
        {
            if (byRequest.TryGetValue(refused.RequestId!, out var records) && records.Contains(("infer", "released")))
            {
                Assert.Contains(("withheld", "unavailable"), records);
            }
        }

        var verify = await Ssctl.RunAsync(fixture, "audit", "verify", "--connection-string", fixture.Stack.Azurite.ConnectionString, "--state", fixture.State.Directory);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }
}
