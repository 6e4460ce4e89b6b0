using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Hosting.Egress;

namespace ServerlessServe.Hosting.Tests.Egress;

public sealed class EgressAllowListTests
{
    [Theory]
    [InlineData("http://127.0.0.1:7072/api/v2", true)]
    [InlineData("https://inference.internal.example:443/", true)]
    [InlineData("https://INFERENCE.internal.example/", true)]
    [InlineData("http://127.0.0.1:7073/", false)]
    [InlineData("https://evil.example/", false)]
    [InlineData("ftp://127.0.0.1:7072/", false)]
    public void Allows_Authorities_Matched(string uri, bool allowed)
    {
        var list = new EgressAllowList(["127.0.0.1:7072", "inference.internal.example"]);
        Assert.Equal(allowed, list.Allows(new Uri(uri)));
    }

    [Fact]
    public async Task Handler_DisallowedHost_RefusedBeforeAnyConnection()
    {
        // A real listener that would accept: the refusal must come from the allow-list, not from the network.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var handler = new EgressAllowListHandler(new EgressAllowList(["127.0.0.1:1"]), NullLogger<EgressAllowListHandler>.Instance)
        {
            InnerHandler = new SocketsHttpHandler(),
        };
        using var client = new HttpClient(handler);
        await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(new Uri($"http://127.0.0.1:{port}/")));
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task Handler_AllowedHost_Reached()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptSocketAsync();
            var buffer = new byte[4096];
            await socket.ReceiveAsync(buffer);
            await socket.SendAsync("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"u8.ToArray());
        });
        using var handler = new EgressAllowListHandler(new EgressAllowList([$"127.0.0.1:{port}"]), NullLogger<EgressAllowListHandler>.Instance)
        {
            InnerHandler = new SocketsHttpHandler(),
        };
        using var client = new HttpClient(handler);
        using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/"));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await server;
    }
}
