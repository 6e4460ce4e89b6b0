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
        var blob = FreePorts.Next();

        var result = await Ssctl.RunAsync(
            fixture,
            TimeSpan.FromMinutes(4),
            "up", "--host", "functions", "--no-build", "-c", fixture.BuildConfiguration, "--skip-resnet", "--exit-when-ready",
            "--state", state, "--port", FreePorts.Next().ToString(), "--inference-port", FreePorts.Next().ToString(),
            "--issuer-port", FreePorts.Next().ToString(), "--blob-port", blob.ToString());

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("Azure Functions host", result.Output, StringComparison.Ordinal);
        Assert.Contains("\"model_name\":\"customer-notes\"", result.Output, StringComparison.Ordinal);
        Assert.Contains("[EMAIL]", result.Output, StringComparison.Ordinal);
    }
}
