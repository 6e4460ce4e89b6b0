using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Jobs;

/// <summary>What the job tests do over HTTP, as a client would: submit, poll until settled, read the audit records.</summary>
internal static class JobClient
{
    public static string CreditRisk(string row) =>
        $$"""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":{{row}}}]}""";

    public static async Task<string> SubmitAsync(StackFixture fixture, HttpClient client, string path, string body)
    {
        using var response = await client.PostAsync(path, StackFixture.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text + fixture.LogTail());
        using var document = JsonDocument.Parse(text);
        var id = document.RootElement.GetProperty("id").GetString()!;
        Assert.EndsWith($"/api/jobs/{id}", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        return id;
    }

    /// <summary>
    /// Polls until the job is neither pending nor running nor cancelling; a 5xx (a gateway restarting) is not an answer yet, and a 429
    /// (the caller's limits on the job routes, which tests sharing a caller can reach together) is waited out.
    /// </summary>
    public static async Task<JsonElement> WaitAsync(HttpClient client, string job, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            using (var response = await client.GetAsync($"jobs/{job}", timeout.Token))
            {
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), timeout.Token);
                    continue;
                }

                if ((int)response.StatusCode < 500)
                {
                    var text = await response.Content.ReadAsStringAsync(timeout.Token);
                    Assert.True(response.StatusCode == HttpStatusCode.OK, text);
                    using var document = JsonDocument.Parse(text);
                    if (document.RootElement.GetProperty("status").GetString() is not ("pending" or "running" or "cancelling"))
                    {
                        return document.RootElement.Clone();
                    }
                }
            }

            await Task.Delay(100, timeout.Token);
        }
    }

    public static async Task<List<JsonElement>> RecordsAsync(StackFixture fixture, string job, string container = "audit") =>
        (await fixture.AuditLinesAsync(container))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.GetProperty("requestId").GetString()!.StartsWith(job + ".", StringComparison.Ordinal))
            .ToList();

    /// <summary>The prefix of every job id of the caller with this subject: its keyed pseudonym's first 8 hex digits.</summary>
    public static string CallerTag(StackFixture fixture, string subject) =>
        new Core.Audit.CallerPseudonymizer(Convert.FromBase64String(File.ReadAllText(fixture.State.AuditPseudonymKey).Trim())).Pseudonymize(subject)[..8];

    /// <summary>
    /// The durable backend's row (Azure Storage on Azurite, the main pair's task hub) of the first job of the caller with
    /// this subject, or null: job ids start with <see cref="CallerTag"/>.
    /// </summary>
    public static async Task<TableEntity?> JobOfAsync(StackFixture fixture, string subject, CancellationToken cancellationToken)
    {
        var instances = new TableServiceClient(fixture.Stack.Azurite.ConnectionString).GetTableClient("serverlessservejobsInstances");
        var tag = CallerTag(fixture, subject);
        var next = tag[..^1] + (char)(tag[^1] + 1);
        await foreach (var entity in instances.QueryAsync<TableEntity>(e => e.PartitionKey.CompareTo(tag) >= 0 && e.PartitionKey.CompareTo(next) < 0, cancellationToken: cancellationToken))
        {
            return entity;
        }

        return null;
    }
}
