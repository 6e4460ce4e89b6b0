using System.Net;
using System.Net.Sockets;
using System.Text;
using ServerlessServe.Local;

namespace ServerlessServe.Core.Tests.Local;

/// <summary>
/// The fault tests' TCP forwarder passes a half-close on: a client that sends its request and then ends its sending
/// still gets the answer. Found in review 2026-12-07: the first end of either direction ended the whole connection.
/// </summary>
public sealed class FaultProxyTests
{
    [Fact]
    public async Task ClientHalfCloses_UpstreamSeesTheEnd_AndItsAnswerStillComesBack()
    {
        using var upstream = new TcpListener(IPAddress.Loopback, 0);
        upstream.Start();
        var served = ServeOnceAsync(upstream);
        await using var proxy = new FaultProxy(((IPEndPoint)upstream.LocalEndpoint).Port);
        proxy.Start();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync("ping"u8.ToArray(), timeout.Token);
        client.Client.Shutdown(SocketShutdown.Send);
        using var answer = new MemoryStream();
        await stream.CopyToAsync(answer, timeout.Token);

        Assert.Equal("ping", await served.WaitAsync(timeout.Token));
        Assert.Equal("pong", Encoding.ASCII.GetString(answer.ToArray()));
    }

    // Reads until the client's end, then answers and closes: what it read.
    private static async Task<string> ServeOnceAsync(TcpListener listener)
    {
        using var accepted = await listener.AcceptTcpClientAsync();
        var stream = accepted.GetStream();
        using var request = new MemoryStream();
        await stream.CopyToAsync(request);
        await stream.WriteAsync("pong"u8.ToArray());
        accepted.Client.Shutdown(SocketShutdown.Send);
        return Encoding.ASCII.GetString(request.ToArray());
    }
}
