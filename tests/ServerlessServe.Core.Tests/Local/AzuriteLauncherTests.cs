using System.Text;
using Azure.Storage.Blobs;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Local;

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

    /// <summary>
    /// <c>ssctl up</c> keeps Azurite's data on disk, so a stack started again finds its models, audit trail and jobs;
    /// the tests (and <c>ssctl up --azurite-in-memory</c>) keep it in memory, where nothing reaches the folder.
    /// </summary>
    [Fact]
    public async Task Persistence_OnDiskOutlivesARestart_InMemoryWritesNothingAndIsGoneWithTheProcess()
    {
        var folder = Directory.CreateTempSubdirectory("serverlessserve-azurite-persistence-");
        try
        {
            var onDisk = Path.Combine(folder.FullName, "disk");
            var inMemory = Path.Combine(folder.FullName, "memory");
            var logs = Path.Combine(folder.FullName, "logs");

            await using (var first = await StartAsync(onDisk, logs, AzuritePersistence.Disk))
            {
                await WriteAsync(first);
            }

            await using (var again = await StartAsync(onDisk, logs, AzuritePersistence.Disk))
            {
                Assert.Equal(AzuritePersistence.Disk, again.Persistence);
                Assert.Equal("kept", await ReadAsync(again));
            }

            await using (var memory = await StartAsync(inMemory, logs, AzuritePersistence.Memory))
            {
                await WriteAsync(memory);
                Assert.Equal("kept", await ReadAsync(memory));
                Assert.Empty(Directory.EnumerateFileSystemEntries(inMemory));
            }

            await using (var memoryAgain = await StartAsync(inMemory, logs, AzuritePersistence.Memory))
            {
                Assert.Null(await ReadAsync(memoryAgain));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task<Azurite> StartAsync(string data, string logs, AzuritePersistence persistence)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await Azurite.StartAsync(AzuriteFixture.RepositoryRoot, data, logs, 0, 0, 0, persistence, timeout.Token);
    }

    private static async Task WriteAsync(Azurite azurite)
    {
        var container = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("persistence");
        await container.CreateAsync();
        await container.GetBlobClient("probe").UploadAsync(new BinaryData(Encoding.UTF8.GetBytes("kept")));
    }

    private static async Task<string?> ReadAsync(Azurite azurite)
    {
        var blob = new BlobServiceClient(azurite.ConnectionString).GetBlobContainerClient("persistence").GetBlobClient("probe");
        return await blob.ExistsAsync() ? (await blob.DownloadContentAsync()).Value.Content.ToString() : null;
    }
}
