using System.Net;
using System.Net.Sockets;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Core.Tests.Local;

/// <summary>
/// Parts of the local stack that fail to start leave nothing behind and never take a stranger for themselves (found in
/// review 2026-12-07).
/// </summary>
public sealed class LocalStartFailureTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ss-start-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Issuer_UrlFileCannotBeWritten_Throws_PortFreedAgain()
    {
        var state = new LocalState(_directory);
        Directory.CreateDirectory(state.IssuerUrlFile);
        var port = FreePorts.Next();

        await Assert.ThrowsAnyAsync<Exception>(() => LocalIssuer.StartAsync(state, port, CancellationToken.None));

        // Before, the listener was started and left running, holding the port, with nothing to dispose it.
        Assert.True(FreePorts.IsFree(port), "the issuer's listener was left holding its port");
    }

    [Fact]
    public async Task Azurite_PortAlreadyListenedOn_RefusedBeforeStarting()
    {
        var blob = FreePorts.Next();
        var queue = FreePorts.Next();
        var table = FreePorts.Next();
        using var stranger = new TcpListener(IPAddress.Loopback, table);
        stranger.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var refused = await Assert.ThrowsAsync<AzuriteExitedException>(() => Azurite.StartAsync(
            AzuriteFixture.RepositoryRoot, Path.Combine(_directory, "data"), Path.Combine(_directory, "logs"), blob, queue, table, AzuritePersistence.Memory, timeout.Token));

        Assert.Contains($"port {table}", refused.Message, StringComparison.Ordinal);
        // Nothing was started: the blob port it would have listened on is free.
        Assert.True(FreePorts.IsFree(blob));
    }
}
