using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Jobs;

/// <summary>A model whose policy says <c>execution: orchestrated</c> answers its plain /infer through the job orchestration, like an inline one.</summary>
[Collection(StackCollection.Name)]
public sealed class OrchestratedInferTests(StackFixture fixture)
{
    // The jobs tests are the stack tests' last part: tests waiting for it may start (StackFixture.WaitForJobsAsync).
    static OrchestratedInferTests() => StackFixture.MarkJobsReached();

    [StackFact]
    public async Task OrchestratedModel_AnswersInferWithTheInlineOutputs_AuditedAsAJobItem()
    {
        var name = await PublishOrchestratedCreditRiskAsync();
        var request = JobClient.CreditRisk("[0.7,0.85,5,3]");

        using var inline = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(request));
        using var orchestrated = await fixture.Gateway.PostAsync($"v2/models/{name}/infer", StackFixture.Json(request));
        var body = await orchestrated.Content.ReadAsStringAsync();

        Assert.True(orchestrated.StatusCode == HttpStatusCode.OK, body + fixture.LogTail());
        using var expected = JsonDocument.Parse(await inline.Content.ReadAsStringAsync());
        using var actual = JsonDocument.Parse(body);
        Assert.Equal(expected.RootElement.GetProperty("outputs").GetRawText(), actual.RootElement.GetProperty("outputs").GetRawText());
        Assert.Equal(name, actual.RootElement.GetProperty("model_name").GetString());

        var record = Assert.Single((await fixture.AuditLinesAsync()).Select(l => JsonDocument.Parse(l).RootElement), r => r.GetProperty("model").GetString() == name);
        Assert.Equal("job", record.GetProperty("operation").GetString());
        Assert.Equal("released", record.GetProperty("outcome").GetString());

        // Its x-request-id names that record, as the inline path's names its own (none before 2026-12-08).
        Assert.Equal(record.GetProperty("requestId").GetString(), orchestrated.Headers.GetValues("x-request-id").Single());

        // A refusal comes back as the inline path's would: same status, the item's safe message.
        using var invalid = await fixture.Gateway.PostAsync($"v2/models/{name}/infer", StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,987654321]}]}"""));
        using var invalidInline = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,987654321]}]}"""));
        Assert.Equal(invalidInline.StatusCode, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);

        // A receipt asked for comes back as on the inline path: the signed statement of the item's own record.
        using var asked = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{name}/infer") { Content = StackFixture.Json(request) };
        asked.Headers.Add("x-audit-receipt", "?1");
        using var receipted = await fixture.Gateway.SendAsync(asked);
        Assert.Equal(HttpStatusCode.OK, receipted.StatusCode);
        Assert.True(AuditReceipt.TryParse(receipted.Headers.GetValues("x-audit-receipt").Single(), out var receipt));
        using (var key = SigningKeys.ImportPem(await File.ReadAllTextAsync(fixture.State.AuditCheckpointPublicKey)))
        {
            Assert.True(receipt!.Verify([key]));
        }

        Assert.Equal(name, receipt.Model);
        Assert.Equal("released", receipt.Outcome);
        var line = (await fixture.AuditLinesAsync()).Single(l => l.Contains("\"requestId\":\"" + receipt.RequestId + "\"", StringComparison.Ordinal));
        Assert.True(AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var stored, out _));
        Assert.True(receipt.Matches(stored!));
    }

    [StackFact]
    public async Task CallerLeavesBeforeTheAnswer_ItsJobIsWithdrawn()
    {
        var name = await PublishOrchestratedCreditRiskAsync();
        const string subject = "leaves-an-orchestrated-infer";
        using var caller = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        caller.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.MintCallerToken(subject));

        // With the inference app down, the item retries and the request waits; its caller gives up while it does. It
        // sent a sync request and holds no job id: the job must not run on once inference is back.
        await fixture.Stack.StopInferenceAsync();
        try
        {
            using var leave = new CancellationTokenSource();
            var sent = caller.PostAsync($"v2/models/{name}/infer", StackFixture.Json(JobClient.CreditRisk("[0.5,0.5,3,3]")), leave.Token);
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            while ((await JobClient.JobOfAsync(fixture, subject, limit.Token))?.GetString("RuntimeStatus") != "Running")
            {
                Assert.False(sent.IsCompleted, $"answered before the job was seen running{fixture.LogTail()}");
                await Task.Delay(20, limit.Token);
            }

            await Task.Delay(500, limit.Token);
            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sent);

            TableEntity job;
            while ((job = (await JobClient.JobOfAsync(fixture, subject, limit.Token))!).GetString("RuntimeStatus") is "Pending" or "Running")
            {
                await Task.Delay(100, limit.Token);
            }

            // Withdrawn while it runs, it is cancelled, not terminated: its item goes to its audit step without waiting
            // for the next inference attempt.
            Assert.True(job.GetString("RuntimeStatus") == "Completed", $"{job.GetString("RuntimeStatus")}{fixture.LogTail()}");
        }
        finally
        {
            using var restart = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await fixture.Stack.StartInferenceAsync(restart.Token);
        }

        // Audited as a sync request whose caller left is: once, refused as cancelled, never inferred (terminating the
        // job, as before 2026-12-06, left the request without any record). Nothing more once inference is back.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var record = Assert.Single((await fixture.AuditLinesAsync()).Select(l => JsonDocument.Parse(l).RootElement), r => r.GetProperty("model").GetString() == name);
        Assert.Equal("cancelled", record.GetProperty("outcome").GetString());
        Assert.Equal("refused:cancelled", record.GetProperty("stages").GetProperty("infer").GetString());
    }

    /// <summary>
    /// A request refused before its job exists is audited as an inline one is (found in review, 2026-12-06: none of these
    /// had a record, while the same refusals of an inline model's infer had theirs).
    /// </summary>
    [StackFact]
    public async Task RefusedBeforeItsJobExists_AuditedOnce_WithAReceiptWhenAsked()
    {
        var name = await PublishOrchestratedCreditRiskAsync();
        using (var warm = await fixture.Gateway.PostAsync($"v2/models/{name}/infer", StackFixture.Json(JobClient.CreditRisk("[0.5,0.5,3,3]"))))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        // A binary request, and a text/plain one with a receipt asked for: 415.
        using var binary = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{name}/infer") { Content = new ByteArrayContent(new byte[32]) };
        binary.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        binary.Headers.Add("Inference-Header-Content-Length", "16");
        using var unsupported = await fixture.Gateway.SendAsync(binary);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);

        using var text = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{name}/infer") { Content = new StringContent(JobClient.CreditRisk("[0.5,0.5,3,3]"), Encoding.UTF8, "text/plain") };
        text.Headers.Add("x-audit-receipt", "?1");
        using var notJson = await fixture.Gateway.SendAsync(text);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
        Assert.True(AuditReceipt.TryParse(notJson.Headers.GetValues("x-audit-receipt").Single(), out var receipt));

        // The inline path answers the same with its receipt too (it had none before 2026-12-08: the media type was
        // checked before the receipt header was read).
        using var inlineText = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = new StringContent(JobClient.CreditRisk("[0.5,0.5,3,3]"), Encoding.UTF8, "text/plain") };
        inlineText.Headers.Add("x-audit-receipt", "?1");
        using var inlineNotJson = await fixture.Gateway.SendAsync(inlineText);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, inlineNotJson.StatusCode);
        Assert.True(AuditReceipt.TryParse(inlineNotJson.Headers.GetValues("x-audit-receipt").Single(), out _));

        // A body that is not UTF-8 (a 0xFF byte in the id): 400, as the inline path answers, never run on U+FFFD in its place.
        var bytes = Encoding.UTF8.GetBytes("{\"id\":\"x\"," + JobClient.CreditRisk("[0.5,0.5,3,3]")[1..]);
        bytes[Array.IndexOf(bytes, (byte)'x')] = 0xFF;
        using var illFormed = await fixture.Gateway.PostAsync($"v2/models/{name}/infer", new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        Assert.Equal(HttpStatusCode.BadRequest, illFormed.StatusCode);
        Assert.Contains("not UTF-8", await illFormed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A job submission refused: more items than MaxItems (1,000).
        var many = "{\"items\":[" + string.Join(',', Enumerable.Repeat(JobClient.CreditRisk("[0.5,0.5,3,3]"), 1001)) + "]}";
        using var tooMany = await fixture.Gateway.PostAsync($"v2/models/{name}/jobs", StackFixture.Json(many));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);

        // A refusal at the model checks signs nothing: a receipt would name what the caller may not learn.
        using var unknown = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{name}-absent/jobs") { Content = StackFixture.Json(JobClient.CreditRisk("[0.5,0.5,3,3]")) };
        unknown.Headers.Add("x-audit-receipt", "?1");
        using var notFound = await fixture.Gateway.SendAsync(unknown);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.False(notFound.Headers.Contains("x-audit-receipt"));

        var records = (await fixture.AuditLinesAsync()).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.GetProperty("model").GetString() == name && r.GetProperty("operation").GetString() != "job")
            .ToList();
        Assert.Equal(4, records.Count);
        Assert.Equal(["infer:unsupported_media_type:read", "infer:unsupported_media_type:read", "infer:invalid:read", "job-submit:too_large:read"], records.Select(r => $"{r.GetProperty("operation").GetString()}:{r.GetProperty("outcome").GetString()}:{string.Join(',', r.GetProperty("stages").EnumerateObject().Where(p => p.Value.GetString() != "pass").Select(p => p.Name))}"));
        Assert.All(records, r => Assert.Equal("pass", r.GetProperty("stages").GetProperty("authorize").GetString()));
        Assert.Equal(receipt!.RequestId, records[1].GetProperty("requestId").GetString());
        Assert.Equal(records[3].GetProperty("requestId").GetString(), tooMany.Headers.GetValues("x-request-id").Single());
        using var key = SigningKeys.ImportPem(await File.ReadAllTextAsync(fixture.State.AuditCheckpointPublicKey));
        Assert.True(receipt.Verify([key]));
    }

    private async Task<string> PublishOrchestratedCreditRiskAsync()
    {
        var samples = Path.Combine(fixture.State.Directory, "orchestrated-" + Guid.NewGuid().ToString("N")[..6]);
        var built = await Ssctl.RunAsync(fixture, "model", "samples", samples, "--skip-resnet");
        Assert.True(built.ExitCode == 0, built.Output);
        var version = Path.Combine(samples, "credit-risk", "1");
        var policyPath = Path.Combine(version, "policy.json");
        var policy = JsonNode.Parse(await File.ReadAllTextAsync(policyPath))!.AsObject();
        policy["execution"] = "orchestrated";
        await File.WriteAllTextAsync(policyPath, policy.ToJsonString());

        var name = "credit-risk-orchestrated-" + Guid.NewGuid().ToString("N")[..6];
        var publish = await Ssctl.RunAsync(fixture, "model", "publish", version,
            "--name", name, "--version", "1", "--state", fixture.State.Directory, "--connection-string", fixture.Stack.Azurite.ConnectionString);
        Assert.True(publish.ExitCode == 0, publish.Output);
        return name;
    }
}
