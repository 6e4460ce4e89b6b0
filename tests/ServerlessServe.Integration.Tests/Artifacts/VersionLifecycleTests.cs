using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Integration.Tests.Artifacts;

/// <summary>
/// Version lifecycle and revocation over real processes: two gateways (each with its own inference app) on the same
/// storage follow what <c>ssctl model lifecycle</c> and <c>ssctl model revoke</c> publish, without a restart.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class VersionLifecycleTests(StackFixture fixture)
{
    /// <summary>The longest a change may take to reach every instance here (each reads the store every 5 s).</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(30);

    private const string CreditRiskBody = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

    [StackFact]
    public async Task DeprecateRetireRevoke_PublishedBySsctl_TakeEffectOnBothGateways()
    {
        var second = await SecondGateway.StartAsync(fixture);
        using var onSecond = new HttpClient { BaseAddress = second.GatewayBaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        onSecond.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.CallerToken);
        var gateways = new[] { fixture.Gateway, onSecond };
        var model = "lifecycle-" + Guid.NewGuid().ToString("N")[..8];
        foreach (var version in new[] { "1", "2", "3" })
        {
            await PublishAsync(model, version);
        }

        foreach (var gateway in gateways)
        {
            Assert.Equal((HttpStatusCode.OK, "1"), await InferAsync(gateway, model, "1"));
            Assert.Equal((HttpStatusCode.OK, "3"), await InferAsync(gateway, model, null));
        }

        // Deprecated: callers who name version 3 still get it, with the dates; the others get version 2.
        await SsctlAsync("model", "lifecycle", "deprecate", model, "3", "--until", "2099-01-01T00:00:00Z");
        foreach (var gateway in gateways)
        {
            await UntilAsync(gateway, model, null, (HttpStatusCode.OK, "2"));
            using var pinned = await gateway.PostAsync($"v2/models/{model}/versions/3/infer", StackFixture.Json(CreditRiskBody));
            Assert.Equal(HttpStatusCode.OK, pinned.StatusCode);
            Assert.StartsWith("@", Assert.Single(pinned.Headers.GetValues("Deprecation")), StringComparison.Ordinal);
            Assert.Equal("Thu, 01 Jan 2099 00:00:00 GMT", Assert.Single(pinned.Headers.GetValues("Sunset")));
        }

        // Retired: version 1 is answered as a version that does not exist, though every gateway has it in memory.
        await SsctlAsync("model", "lifecycle", "retire", model, "1");
        foreach (var gateway in gateways)
        {
            await UntilAsync(gateway, model, "1", (HttpStatusCode.NotFound, null));
            using var metadata = await gateway.GetAsync($"v2/models/{model}/versions/1");
            Assert.Equal(HttpStatusCode.NotFound, metadata.StatusCode);
        }

        // Revoked by the signed list: version 2 is unavailable, and nothing is left for callers who name no version.
        await SsctlAsync("model", "revoke", model, "2");
        foreach (var gateway in gateways)
        {
            await UntilAsync(gateway, model, "2", (HttpStatusCode.ServiceUnavailable, null));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await InferAsync(gateway, model, null)).Status);
        }

        var shown = await Ssctl.RunAsync(fixture, ["model", "lifecycle", "show", model, "--state", fixture.State.Directory, "--connection-string", fixture.Stack.Azurite.ConnectionString]);
        Assert.True(shown.ExitCode == 0, shown.Output);
        Assert.Contains("deprecated", shown.Stdout, StringComparison.Ordinal);
        Assert.Contains("retired", shown.Stdout, StringComparison.Ordinal);
    }

    private async Task SsctlAsync(params string[] arguments)
    {
        var result = await Ssctl.RunAsync(fixture, [.. arguments, "--state", fixture.State.Directory, "--connection-string", fixture.Stack.Azurite.ConnectionString]);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    /// <summary>Polls until <paramref name="gateway"/> answers <paramref name="wanted"/>, for at most <see cref="Propagation"/>.</summary>
    private async Task UntilAsync(HttpClient gateway, string model, string? version, (HttpStatusCode Status, string? Version) wanted)
    {
        var deadline = DateTime.UtcNow + Propagation;
        (HttpStatusCode Status, string? Version) answer;
        while ((answer = await InferAsync(gateway, model, version)) != wanted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.True(answer == wanted, $"{gateway.BaseAddress}: {answer}, wanted {wanted}{fixture.LogTail()}");
    }

    private static async Task<(HttpStatusCode Status, string? Version)> InferAsync(HttpClient gateway, string model, string? version)
    {
        using var response = await gateway.PostAsync(
            version is null ? $"v2/models/{model}/infer" : $"v2/models/{model}/versions/{version}/infer",
            StackFixture.Json(CreditRiskBody));
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (response.StatusCode, null);
        }

        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.GetProperty("model_version").GetString());
    }

    private async Task PublishAsync(string model, string version)
    {
        using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(fixture.State.ModelSigningKey));
        using var trusted = TrustedSigners.FromPem([await File.ReadAllTextAsync(fixture.State.ModelSigningPublicKey)]);
        var store = new ModelStore(fixture.Blobs.GetBlobContainerClient("models"), trusted, new ModelStoreOptions(), Microsoft.Extensions.Logging.Abstractions.NullLogger<ModelStore>.Instance);
        var onnx = global::Onnx.ModelProto.Parser.ParseFrom(SampleModels.BuildModel(CreditRiskSample.Name));
        onnx.DocString = "lifecycle test " + model + " " + version;
        await store.PublishAsync(ModelPackager.Pack(model, version, onnx.ToByteArray(), SampleModels.GetPolicy(CreditRiskSample.Name), signer, DateTimeOffset.UtcNow));
    }
}
