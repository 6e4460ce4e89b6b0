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

        // Every port is picked free, the admin plane's too (its default, 7074, may be held by a stack a developer runs).
        // A picked port can still be taken before ssctl binds it (by another process's outgoing connection, or the
        // other lane starting its apps), which ssctl reports before starting anything: pick again then.
        Ssctl.Result result;
        for (var attempt = 1; ; attempt++)
        {
            result = await Ssctl.RunAsync(
                fixture,
                TimeSpan.FromMinutes(4),
                "up", "--host", "functions", "--no-build", "-c", fixture.BuildConfiguration, "--skip-resnet", "--exit-when-ready",
                "--state", state, "--port", FreePorts.Next().ToString(), "--inference-port", FreePorts.Next().ToString(),
                "--admin-port", FreePorts.Next().ToString(), "--issuer-port", FreePorts.Next().ToString(), "--blob-port", StoragePorts().ToString());
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

    /// <summary>A blob port whose next two (ssctl's queue and table ports) are free as well.</summary>
    private static int StoragePorts()
    {
        while (true)
        {
            var blob = FreePorts.Next();
            if (blob <= 65533 && FreePorts.IsFree(blob + 1) && FreePorts.IsFree(blob + 2))
            {
                return blob;
            }
        }
    }
}
