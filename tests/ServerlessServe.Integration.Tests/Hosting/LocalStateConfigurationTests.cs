using System.Net;
using System.Net.Http.Headers;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Hosting;

/// <summary>
/// The <c>func start</c> path's configuration: an app given only storage and <c>ServerlessServe:LocalStateDirectory</c>
/// (as local.settings.sample.json does) takes its keys from that folder, serves, and says so in its log — under the
/// Functions host too, where the warning reaches the host's output through the worker's console.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class LocalStateConfigurationTests(StackFixture fixture)
{
    [StackFact]
    public async Task InferenceApp_KeysFromLocalStateFolder_ServesTheGatewaysCallsAndWarns()
    {
        var port = FreePorts.Next();
        var log = Path.Combine(fixture.State.LogsDirectory, "inference-local-state.log");
        var settings = new Dictionary<string, string>
        {
            ["ServerlessServe:Storage:ConnectionString"] = fixture.Stack.Azurite.ConnectionString,
            ["ServerlessServe:LocalStateDirectory"] = fixture.State.Directory,
        };
        foreach (var (key, value) in fixture.Stack.Issuer.InferenceSettings())
        {
            settings[key] = value; // not keys: where the gateway's tokens come from, as local.settings.sample.json names it
        }

        await using var app = AppLauncher.Start(
            fixture.Host,
            fixture.Stack.FunctionsHost,
            "ServerlessServe.Inference",
            AppLauncher.AppDirectory(fixture.RepositoryRoot, "ServerlessServe.Inference", fixture.BuildConfiguration),
            port,
            settings,
            log,
            fixture.Stack.Azurite.ConnectionString,
            Path.Combine(fixture.State.Directory, "functions-host"));
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/") };
        await FreePorts.WaitForListenerAsync(port, TimeSpan.FromSeconds(60), () => !app.HasExited, CancellationToken.None);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.GatewayToken());
        using var response = await PostUntilServedAsync(client);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await File.ReadAllTextAsync(log);
        Assert.Contains("read from the local state folder", text, StringComparison.Ordinal);
    }

    // The Functions host listens a moment before its worker is ready; it answers 503 until then.
    private static async Task<HttpResponseMessage> PostUntilServedAsync(HttpClient client)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await client.PostAsync(
                "v2/models/credit-risk/versions/1/infer",
                StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""));
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || attempt == 100)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(200);
        }
    }
}
