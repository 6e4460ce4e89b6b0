using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.HostLane;

/// <summary><c>ssctl up --host functions</c> runs the local stack under the real host and serves the README's request.</summary>
[Collection(StackCollection.Name)]
public sealed class SsctlUpTests(StackFixture fixture)
{
    [StackFact]
    public async Task UpUnderTheFunctionsHost_ServesTheReadmeRequest()
    {
        var state = Path.Combine(fixture.State.Directory, "up-functions");

        // Every port is picked free, the admin plane's too (its default, 7074, may be held by a stack a developer runs),
        // and the blob port with the two after it (ssctl's queue and table ports). A picked port can still be taken
        // before ssctl binds it by another program, which ssctl reports before starting anything: pick again then.
        Ssctl.Result result;
        for (var attempt = 1; ; attempt++)
        {
            result = await Ssctl.RunAsync(
                fixture,
                TimeSpan.FromMinutes(4),
                "up", "--host", "functions", "--no-build", "-c", fixture.BuildConfiguration, "--skip-resnet", "--exit-when-ready",
                "--state", state, "--port", FreePorts.Next().ToString(), "--inference-port", FreePorts.Next().ToString(),
                "--admin-port", FreePorts.Next().ToString(), "--issuer-port", FreePorts.Next().ToString(), "--blob-port", FreePorts.NextRun(3).ToString());
            if (result.ExitCode != 2 || !result.Output.Contains("is in use", StringComparison.Ordinal) || attempt == 3)
            {
                break;
            }
        }

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Azure Functions host", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"model_name\":\"customer-notes\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("[EMAIL]", result.Output, StringComparison.Ordinal);
    }

}
