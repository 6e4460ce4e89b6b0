using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// The inference app refusing one version the gateway resolved (its bytes were altered in storage after the gateway
/// verified them) is that version's answer, not a sign the app is down: the caller is told the version is unavailable,
/// the call is not retried, and however often it is asked for, the gateway's circuit breaker stays closed for every
/// other model and caller.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class InferenceVersionRefusalTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

    [Fact]
    public async Task VersionRefusedByTheInferenceApp_VersionUnavailable_NotRetried_BreakerStaysClosed()
    {
        // Altered in storage after the gateway verified it: the inference app, loading it, refuses the version.
        var name = await SplitModelAsync();
        var before = stack.GatewayLogs.GetSnapshot().Count;
        using var client = stack.Client("version-refusal-tests");
        var asked = 2 * InferenceResilience.BreakerMinimumThroughput;
        for (var i = 0; i < asked; i++)
        {
            using var refused = await client.PostAsync($"v2/models/{name}/versions/1/infer", Json(Body));
            var text = await refused.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("model version unavailable", JsonDocument.Parse(text).RootElement.GetProperty("error").GetString());
            Assert.Equal(V2Results.VersionScope, Assert.Single(refused.Headers.GetValues(V2Results.RefusalScopeHeader)));
        }

        // Every other model still serves at once: the breaker never counted those answers.
        using var served = await client.PostAsync("v2/models/credit-risk/infer", Json(Body));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);

        // The app was asked once: it said the version cannot be loaded, and the gateway marked it failed (since
        // 2026-12-07), so the next requests for it were refused without a call.
        var logs = stack.GatewayLogs.GetSnapshot().Skip(before).ToList();
        Assert.Equal(1, logs.Count(r => r.Id.Id == 1204));
        Assert.DoesNotContain(logs, r => r.Id.Id == 1203);
        Assert.DoesNotContain(logs, r => r.Category is not null && r.Category.StartsWith("Polly", StringComparison.Ordinal) && r.Message.Contains("OnRetry", StringComparison.Ordinal));
    }

    /// <summary>
    /// The inference app holding as many request bodies as it may (<c>ServerlessServe:Inference:BodyBytesInFlight</c>)
    /// ends the next one's read: the caller gets 503 "inference busy" with <c>Retry-After</c>, not the version unavailable;
    /// the gateway neither retries it nor counts it toward its breaker; once the bodies are gone the same request is served.
    /// </summary>
    [Fact]
    public async Task InferenceAppBodiesFull_503BusyWithRetryAfterPassedOn_NotRetried_BreakerStaysClosed()
    {
        var budget = stack.InferenceServices.GetRequiredService<ServerlessServe.Onnx.InferenceBodyBudget>();
        var options = stack.InferenceServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServerlessServe.Onnx.InferenceOptions>>().Value;
        var full = budget.Reserve();
        Assert.Null(full.TryGrow(options.BodyBytesInFlight));
        var before = stack.GatewayLogs.GetSnapshot().Count;
        using var client = stack.Client("inference-busy-tests");
        try
        {
            for (var i = 0; i < 2 * InferenceResilience.BreakerMinimumThroughput; i++)
            {
                using var refused = await client.PostAsync("v2/models/credit-risk/infer", Json(Body));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
                Assert.Equal("inference busy", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
                Assert.False(refused.Headers.Contains(V2Results.RefusalScopeHeader));
            }

            Assert.Equal(options.BodyBytesInFlight, budget.Held);
        }
        finally
        {
            full.Dispose();
        }

        using var served = await client.PostAsync("v2/models/credit-risk/infer", Json(Body));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(0, budget.Held);
        var logs = stack.GatewayLogs.GetSnapshot().Skip(before).ToList();
        Assert.DoesNotContain(logs, r => r.Id.Id == 1203);
        Assert.DoesNotContain(logs, r => r.Category is not null && r.Category.StartsWith("Polly", StringComparison.Ordinal) && r.Message.Contains("OnRetry", StringComparison.Ordinal));
    }

    /// <summary>
    /// A job's item refused while the inference app is full of bodies is tried again, as for the service unavailable,
    /// and served once the bodies are gone: busy is not the version's answer (it would end the item for good).
    /// </summary>
    [Fact]
    public async Task InferenceAppBodiesFull_JobItemTriedAgain_ServedOnceTheyAreGone()
    {
        var budget = stack.InferenceServices.GetRequiredService<ServerlessServe.Onnx.InferenceBodyBudget>();
        var options = stack.InferenceServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ServerlessServe.Onnx.InferenceOptions>>().Value;
        using var client = stack.Client("inference-busy-jobs");
        var full = budget.Reserve();
        Assert.Null(full.TryGrow(options.BodyBytesInFlight));
        string location;
        var before = stack.GatewayLogs.GetSnapshot().Count;
        try
        {
            location = await JobPolling.SubmitAsync(client, "v2/models/credit-risk/jobs", "{\"items\":[" + Body + "]}");

            // Until the item has been refused busy at least once (log 1205; not 1204, a version that cannot serve).
            for (var i = 0; i < 1200 && !Busy(); i++)
            {
                await Task.Delay(25);
            }

            Assert.True(Busy());
            Assert.DoesNotContain(stack.GatewayLogs.GetSnapshot().Skip(before), r => r.Id.Id == 1204);
            bool Busy() => stack.GatewayLogs.GetSnapshot().Skip(before).Any(r => r.Id.Id == 1205);
        }
        finally
        {
            full.Dispose();
        }

        var status = await JobPolling.AwaitSettledAsync(client, location);
        var item = Assert.Single(status.GetProperty("results").EnumerateArray());
        Assert.Equal("released", item.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task VersionRefusedByTheInferenceApp_JobItemRefusedAtOnce_NotRetriedByTheOrchestration()
    {
        var name = await SplitModelAsync();
        using var client = stack.Client("version-refusal-jobs");
        var status = await JobPolling.AwaitSettledAsync(client, await JobPolling.SubmitAsync(client, $"v2/models/{name}/jobs", "{\"items\":[" + Body + "]}"));

        // The item's answer is the app's: not "inference service unavailable" after the orchestration's retries.
        var item = Assert.Single(status.GetProperty("results").EnumerateArray());
        Assert.Equal("unavailable", item.GetProperty("outcome").GetString());
        Assert.Equal("model version unavailable", item.GetProperty("error").GetString());
    }

    /// <summary>A new model the gateway has verified, whose bytes were then altered in storage: the inference app refuses it.</summary>
    private async Task<string> SplitModelAsync()
    {
        var name = "split-" + Guid.NewGuid().ToString("N")[..6];
        var store = stack.GatewayServices.GetRequiredService<ModelStore>();
        var package = TestPackages.CreditRiskOwnBytes(name, "1", name);
        await store.PublishAsync(package);
        await stack.GatewayServices.GetRequiredService<ModelCatalog>().ResolveAsync(name, "1", default);

        var model = package.Files.Single(f => f.Name == ModelStoreLayout.ModelFile);
        var altered = model.Content.ToArray();
        altered[^1] ^= 0x5a;
        await store.Container.GetBlobClient(ModelStoreLayout.ContentPath(model.Pin.Sha256)).UploadAsync(BinaryData.FromBytes(altered), overwrite: true);
        return name;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
