using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Jobs;

/// <summary>
/// The real <c>ssctl job</c> process against the running stack: submit (JSON lines, inline, standard input) and wait,
/// status, result, cancel; outputs equal to the sync path's; exit codes; another caller's token and bad input refused
/// with a clear message.
/// </summary>
[Collection(StackCollection.Name)]
public sealed partial class SsctlJobTests(StackFixture fixture)
{
    // The jobs tests are the stack tests' last part: tests waiting for it may start (StackFixture.WaitForJobsAsync).
    static SsctlJobTests() => StackFixture.MarkJobsReached();

    private static readonly TimeSpan TimeLimit = TimeSpan.FromMinutes(3);

    private static readonly string[] Rows =
    [
        "[0.35,0.4,1,9]", "[0.7,0.85,5,3]", "[0.1,0.2,1,1]", "[0.9,0.1,2,7]", "[0.5,0.5,3,3]",
    ];

    [StackFact]
    public async Task SubmitWaitJson_JsonLinesBatch_CompletesWithTheSyncOutputs()
    {
        var file = WriteFile("batch.jsonl", string.Join('\n', Rows.Select(Item)) + "\n");

        var result = await RunAsync("job", "submit", "credit-risk", "--jsonl", file, "--wait", "--json");

        Assert.True(result.ExitCode == 0, result.Output + fixture.LogTail());
        Assert.Equal("", result.Stderr);
        using var job = JsonDocument.Parse(result.Stdout);
        Assert.Equal("completed", job.RootElement.GetProperty("status").GetString());
        Assert.Equal(Rows.Length, job.RootElement.GetProperty("items").GetInt32());
        var results = job.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(Rows.Length, results.Count);
        var version = job.RootElement.GetProperty("model_version").GetString();
        for (var i = 0; i < Rows.Length; i++)
        {
            Assert.Equal(i, results[i].GetProperty("index").GetInt32());
            Assert.Equal("released", results[i].GetProperty("outcome").GetString());
            Assert.Equal(await SyncOutputsAsync(Item(Rows[i]), $"versions/{version}/"), results[i].GetProperty("response").GetProperty("outputs").GetRawText());
        }
    }

    [StackFact]
    public async Task SubmitWait_ItemsWithOneRefused_TableSummaryPlainProgressAndFile()
    {
        var bad = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,987654321]}]}""";
        var body = "{\"items\":[" + Item(Rows[0]) + "," + Item(Rows[1]) + "," + bad + "]}";
        var output = Path.Combine(fixture.State.Directory, "job-" + Guid.NewGuid().ToString("N")[..6] + ".json");

        var result = await RunAsync("job", "submit", "credit-risk", "--version", "1", "--data", body, "--wait", "--out", output);

        Assert.True(result.ExitCode == 0, result.Output + fixture.LogTail());
        Assert.Matches(@"job [0-9a-f]{32} completed: 2 released, 1 refused \(credit-risk version 1\)", result.Stdout);
        Assert.Contains("probabilities_classes", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("invalid", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("987654321", result.Output, StringComparison.Ordinal);

        // Standard error is redirected: plain progress lines, no terminal control sequences.
        Assert.Matches(@"job [0-9a-f]{32} submitted \(3 items\)", result.Stderr);
        Assert.Matches(@"job [0-9a-f]{32}: completed, 3/3 items done", result.Stderr);
        Assert.DoesNotContain('\u001b', result.Output);

        using var saved = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        var items = saved.RootElement.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["released", "released", "invalid"], items.Select(i => i.GetProperty("outcome").GetString()));
        Assert.Equal(await SyncOutputsAsync(Item(Rows[1]), "versions/1/"), JsonSerializer.Serialize(items[1].GetProperty("response").GetProperty("outputs")));
    }

    [StackFact]
    public async Task Submit_FromStandardInput_PrintsTheId_ThenStatusAndResult()
    {
        var submit = await Ssctl.RunWithInputAsync(fixture, TimeLimit, Item(Rows[2]), [.. Args("job", "submit", "credit-risk", "--version", "1")]);

        Assert.True(submit.ExitCode == 0, submit.Output + fixture.LogTail());
        var id = submit.Stdout.Trim();
        Assert.Matches(JobId(), id);
        Assert.Contains($"/api/jobs/{id}", submit.Stderr, StringComparison.Ordinal);

        var waited = await RunAsync("job", "result", id, "--wait", "--json");
        Assert.True(waited.ExitCode == 0, waited.Output);
        Assert.Equal("completed", JsonDocument.Parse(waited.Stdout).RootElement.GetProperty("status").GetString());

        var status = await RunAsync("job", "status", id);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Equal($"job {id}: completed, 1/1 items done (credit-risk version 1)", status.Stdout.Trim());

        var statusJson = await RunAsync("job", "status", id, "--json");
        Assert.Equal(id, JsonDocument.Parse(statusJson.Stdout).RootElement.GetProperty("id").GetString());

        var table = await RunAsync("job", "result", id);
        Assert.True(table.ExitCode == 0, table.Output);
        Assert.Contains($"job {id} completed: 1 released, 0 refused", table.Stdout, StringComparison.Ordinal);

        var late = await RunAsync("job", "cancel", id);
        Assert.True(late.ExitCode == 0, late.Output);
        Assert.Equal($"job {id}: already completed; nothing to cancel", late.Stdout.Trim());
    }

    [StackFact]
    public async Task Cancel_RunningJob_StatusCancelled_ResultExitsFour()
    {
        // With the inference app away the job's items wait between inference attempts, so it is still running when
        // the cancel comes (a job of this size otherwise finishes in well under a second).
        const int Items = 120;
        var file = WriteFile("large.jsonl", string.Join('\n', Enumerable.Range(0, Items).Select(i => Item(Rows[i % Rows.Length]))));
        await fixture.Stack.StopInferenceAsync();
        string id;
        try
        {
            var submit = await RunAsync("job", "submit", "credit-risk", "--jsonl", file);
            Assert.True(submit.ExitCode == 0, submit.Output + fixture.LogTail());
            id = submit.Stdout.Trim();
            await WaitUntilRunningAsync(id);

            var cancel = await RunAsync("job", "cancel", id);

            Assert.True(cancel.ExitCode == 0, cancel.Output + fixture.LogTail(120));
            // Running: its chunks in flight are audited first (items not inferred yet refused as cancelled).
            Assert.Equal($"job {id}: cancelling (no more items start; those in flight are finished and audited, and `ssctl job result` shows how each ended)", cancel.Stdout.Trim());
        }
        finally
        {
            using var restart = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await fixture.Stack.StartInferenceAsync(restart.Token);
        }

        var result = await RunAsync("job", "result", id, "--wait", "--timeout", "00:01:30");
        Assert.True(result.ExitCode == 4, result.Output);
        Assert.Matches($"job {id}: cancelled, [0-9]+/{Items} items done", result.Stderr);
        // Its results are printed all the same: the items in flight, refused as cancelled with inference away.
        Assert.Matches($"job {id} cancelled: 0 released, [1-9][0-9]* refused", result.Stdout);
        var status = await RunAsync("job", "status", id, "--json");
        Assert.Equal("cancelled", JsonDocument.Parse(status.Stdout).RootElement.GetProperty("status").GetString());
    }

    [StackFact]
    public async Task AnotherCallersToken_StatusResultCancel_NotFoundAndExitTwo()
    {
        var submit = await RunAsync("job", "submit", "credit-risk", "--data", Item(Rows[3]));
        Assert.True(submit.ExitCode == 0, submit.Output + fixture.LogTail());
        var id = submit.Stdout.Trim();
        var stranger = fixture.MintCallerToken("someone-else");

        foreach (var command in new[] { "status", "result", "cancel" })
        {
            var refused = await Ssctl.RunAsync(fixture, TimeLimit, "job", command, id, "--url", fixture.Stack.GatewayBaseUrl.ToString(), "--token", stranger);

            Assert.True(refused.ExitCode == 2, command + ": " + refused.Output);
            Assert.Equal("", refused.Stdout);
            Assert.Contains($"ssctl: job {command}: job {id} not found: no such job, or it was submitted with another caller's token", refused.Stderr, StringComparison.Ordinal);
        }

        var owner = await RunAsync("job", "result", id, "--wait");
        Assert.True(owner.ExitCode == 0, owner.Output);
    }

    [StackFact]
    public async Task ResultWait_GatewayAnswers503WithRetryAfter_RetriedAsAskedThenCompletes()
    {
        var submit = await RunAsync("job", "submit", "credit-risk", "--data", Item(Rows[4]));
        Assert.True(submit.ExitCode == 0, submit.Output + fixture.LogTail());
        await using var front = FaultyFront.Start(fixture.Stack.GatewayBaseUrl, failures: 2, 503, """{"error":"model version unavailable"}""", TimeSpan.FromSeconds(2));

        var result = await Ssctl.RunAsync(fixture, TimeLimit, "job", "result", submit.Stdout.Trim(), "--wait", "--url", front.BaseUrl.ToString(), "--token", fixture.CallerToken);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("job result: the gateway answered 503: model version unavailable; retrying", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("completed: 1 released, 0 refused", result.Stdout, StringComparison.Ordinal);
        var times = front.StatusRequests;
        Assert.True(times.Count >= 3, string.Join(", ", times));
        Assert.True(times[1] - times[0] >= TimeSpan.FromSeconds(1.9), "Retry-After: 2 not honoured: " + string.Join(", ", times));
    }

    [StackFact]
    public async Task ResultWait_GatewayRefuses_EndsAtOnceWithItsMessageCleaned()
    {
        var submit = await RunAsync("job", "submit", "credit-risk", "--data", Item(Rows[4]));
        Assert.True(submit.ExitCode == 0, submit.Output + fixture.LogTail());
        await using var front = FaultyFront.Start(fixture.Stack.GatewayBaseUrl, failures: int.MaxValue, 403, "{\"error\":\"the caller has no role \\u001b[31mthis model admits\"}");

        var result = await Ssctl.RunAsync(fixture, TimeLimit, "job", "result", submit.Stdout.Trim(), "--wait", "--url", front.BaseUrl.ToString(), "--token", fixture.CallerToken);

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Single(front.StatusRequests);
        Assert.Contains("ssctl: job result: the gateway answered 403: the caller has no role  [31mthis model admits", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Output);
    }

    [StackTheory]
    [InlineData("--data", "not json", "ssctl: --data (line 1): not valid JSON")]
    [InlineData("--data", "[1,2]", "ssctl: --data: a job is a V2 request object or {\"items\":[...]}")]
    [InlineData("--data", """{"items":[]}""", "ssctl: --data: \"items\" must be the only property: a non-empty array of V2 requests")]
    [InlineData("--jsonl", "{\"inputs\":[]}\n\n[1]\n", " line 3: not a V2 request object")]
    // Latin-1 bytes (0xE9 for é) are not UTF-8: refused, as --file refuses them, never submitted with U+FFFD in their place.
    [InlineData("--jsonl-latin1", "{\"inputs\":[]}\n{\"id\":\"caf\u00e9\",\"inputs\":[]}\n", " line 2: not valid UTF-8")]
    public async Task Submit_BadInput_ClearErrorAndExitTwo(string option, string input, string expected)
    {
        var value = option switch
        {
            "--jsonl" => WriteFile("bad.jsonl", input),
            "--jsonl-latin1" => WriteFile("bad.jsonl", input, System.Text.Encoding.Latin1),
            _ => input,
        };

        var result = await RunAsync("job", "submit", "credit-risk", option == "--jsonl-latin1" ? "--jsonl" : option, value);

        Assert.True(result.ExitCode == 2, result.Output);
        Assert.Equal("", result.Stdout);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
    }

    [StackFact]
    public async Task Submit_RefusedByTheGateway_ItsMessageAndExitTwo()
    {
        var unknown = await RunAsync("job", "submit", "no-such-model", "--data", Item(Rows[0]));
        var badToken = await Ssctl.RunAsync(fixture, TimeLimit, "job", "submit", "credit-risk", "--data", Item(Rows[0]), "--url", fixture.Stack.GatewayBaseUrl.ToString(), "--token", "not-a-token");
        var usage = await RunAsync("job", "submit", "credit-risk", "--data", Item(Rows[0]), "--jsonl", "rows.jsonl");
        var empty = await RunAsync("job", "submit", "credit-risk");

        Assert.True(unknown.ExitCode == 2, unknown.Output);
        Assert.Contains("ssctl: job submit: the gateway answered 404: model or version not found", unknown.Stderr, StringComparison.Ordinal);
        Assert.True(badToken.ExitCode == 2, badToken.Output);
        Assert.Contains("ssctl: job submit: the gateway refused the token (401", badToken.Stderr, StringComparison.Ordinal);
        Assert.True(usage.ExitCode == 1, usage.Output);
        Assert.Contains("give at most one of --file, --data and --jsonl", usage.Output, StringComparison.Ordinal);
        Assert.True(empty.ExitCode == 2, empty.Output);
        Assert.Contains("ssctl: standard input: empty, no request", empty.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Waits until the job runs, so that its cancel is the running job's (<c>cancelling</c>, then <c>cancelled</c>); a
    /// pending one is terminated at once (<c>cancelled</c>).
    /// </summary>
    private async Task WaitUntilRunningAsync(string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            var status = await RunAsync("job", "status", id, "--json");
            Assert.True(status.ExitCode == 0, status.Output);
            var now = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("status").GetString();
            Assert.True(now is "pending" or "running", "the job ended before it could be cancelled: " + now);
            if (now == "running")
            {
                return;
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    private static string Item(string row) =>
        $$"""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":{{row}}}]}""";

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex JobId();

    private string[] Args(params string[] arguments) =>
        [.. arguments, "--url", fixture.Stack.GatewayBaseUrl.ToString(), "--token", fixture.CallerToken];

    private Task<Ssctl.Result> RunAsync(params string[] arguments) => Ssctl.RunAsync(fixture, TimeLimit, Args(arguments));

    private string WriteFile(string name, string content, System.Text.Encoding? encoding = null)
    {
        var path = Path.Combine(fixture.State.Directory, Guid.NewGuid().ToString("N")[..6] + "-" + name);
        File.WriteAllText(path, content, encoding ?? new System.Text.UTF8Encoding(false));
        return path;
    }

    /// <summary>The sync path's outputs for <paramref name="request"/> (on <paramref name="version"/>, e.g. "versions/1/", or the latest).</summary>
    private async Task<string> SyncOutputsAsync(string request, string version = "")
    {
        using var response = await fixture.Gateway.PostAsync($"v2/models/credit-risk/{version}infer", StackFixture.Json(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("outputs").GetRawText();
    }
}
