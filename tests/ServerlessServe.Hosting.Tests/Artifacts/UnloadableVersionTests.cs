using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Hosting.Tests.Artifacts;

/// <summary>
/// A signed version that passes every check but that ONNX Runtime refuses where it runs (here a node of an operator
/// domain the runtime lacks) does not take "latest" down: the inference app tells the gateway the version cannot be
/// loaded, the gateway marks it failed, and after one 503 with Retry-After the version before it serves. A caller who
/// names the broken version keeps its 503. Found in review 2026-12-07: every request for "latest" was 503 until the
/// version was retired.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class UnloadableVersionTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Fact]
    public async Task LatestUnloadable_OneRetryableRefusal_ThenThePreviousVersionServes_NamedStillRefused()
    {
        var name = "unloadable-" + Guid.NewGuid().ToString("N")[..6];
        var store = stack.GatewayServices.GetRequiredService<ModelStore>();
        await store.PublishAsync(TestPackages.CreditRisk(name, "1"));
        var broken = global::Onnx.ModelProto.Parser.ParseFrom(TestPackages.CreditRiskModel);
        broken.Graph.Node[0].Domain = "com.example.missing";
        broken.OpsetImport.Add(new global::Onnx.OperatorSetIdProto { Domain = "com.example.missing", Version = 1 });
        await store.PublishAsync(TestPackages.PackUnchecked(name, "2", broken.ToByteArray(), SampleModels.GetPolicy(CreditRiskSample.Name)));
        using var client = stack.Client("unloadable-" + Guid.NewGuid().ToString("N")[..6]);

        // The first request for "latest" resolves to 2: refused, to be tried again in a second.
        using (var first = await client.PostAsync($"v2/models/{name}/infer", Json()))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), first.Headers.RetryAfter?.Delta);
        }

        // Its retry is served by 1.
        using (var retry = await client.PostAsync($"v2/models/{name}/infer", Json()))
        {
            var text = await retry.Content.ReadAsStringAsync();
            Assert.True(retry.StatusCode == HttpStatusCode.OK, text);
            using var document = JsonDocument.Parse(text);
            Assert.Equal("1", document.RootElement.GetProperty("model_version").GetString());
        }

        // Named, 2 is refused as the version unavailable, and the answer does not say why.
        using var named = await client.PostAsync($"v2/models/{name}/versions/2/infer", Json());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, named.StatusCode);
        Assert.DoesNotContain("unservable", await named.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(named.Headers.Contains("x-serverlessserve-version-unservable"));
    }

    private static StringContent Json() => new(Body, Encoding.UTF8, "application/json");
}
