using System.Text;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Local;

/// <summary>
/// What the Azurite launcher shared by <c>ssctl up</c>, the tests and the benchmarks asks of the emulator. Azurite collects
/// usage telemetry unless told not to: it records storage operations and sends them to Application Insights over the
/// internet, which a local stack that restricts egress must not do (docs/design.md, "Local state").
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzuriteLauncherTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task StartedAzurite_CollectsNoTelemetry()
    {
        var container = await azurite.CreateContainerAsync("launcher");
        await container.GetBlobClient("probe").UploadAsync(new BinaryData(Encoding.UTF8.GetBytes("probe")));

        // With telemetry on, Azurite's first step is to give its installation an id, kept in "AzuriteConfig" in its
        // data folder; with --disableTelemetry it never initialises its telemetry client, so the file never appears.
        Assert.True(Directory.Exists(azurite.DataDirectory), "the fixture's data folder should exist");
        Assert.False(
            File.Exists(Path.Combine(azurite.DataDirectory, "AzuriteConfig")),
            "Azurite wrote its telemetry instance id: the launcher must start it with --disableTelemetry");
    }
}
