using System.Net;
using System.Net.Http.Headers;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Hosting;

/// <summary>
/// The <c>func start</c> path's configuration: an app given only storage and <c>ServerlessServe:LocalStateDirectory</c>
/// (as local.settings.sample.json does) takes its keys from that folder and serves.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class LocalStateConfigurationTests(StackFixture fixture)
{
    [Fact]
    public async Task InferenceApp_KeysFromLocalStateFolder_ServesServiceTokenCalls()
    {
        var port = FreePorts.Next();
        var assembly = LocalStack.AppAssembly(fixture.RepositoryRoot, "ServerlessServe.Inference", fixture.BuildConfiguration);
        var environment = new Dictionary<string, string>
        {
            ["ServerlessServe__Storage__ConnectionString"] = fixture.Stack.Azurite.ConnectionString,
            ["ServerlessServe__LocalStateDirectory"] = fixture.State.Directory,
        };
        await using var app = ChildProcess.Start(
            "inference (local state)", "dotnet", [assembly, "--urls", $"http://127.0.0.1:{port}"], Path.GetDirectoryName(assembly)!,
            Path.Combine(fixture.State.LogsDirectory, "inference-local-state.log"), environment);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/") };
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(60), () => !app.HasExited, CancellationToken.None);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.MintServiceToken());
        using var response = await client.PostAsync(
            "v2/models/credit-risk/versions/1/infer",
            StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var log = await File.ReadAllTextAsync(Path.Combine(fixture.State.LogsDirectory, "inference-local-state.log"));
        Assert.Contains("local state folder", log, StringComparison.Ordinal);
    }
}
