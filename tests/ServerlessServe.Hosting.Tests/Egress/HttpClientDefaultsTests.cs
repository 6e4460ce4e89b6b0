using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Egress;

namespace ServerlessServe.Hosting.Tests.Egress;

/// <summary>Every client from the platform's HTTP factory goes through the egress allow-list and follows no redirect.</summary>
public sealed class HttpClientDefaultsTests
{
    [Fact]
    public async Task FactoryClient_RedirectToHostOffTheList_NotFollowed()
    {
        using var allowed = new TcpListener(IPAddress.Loopback, 0);
        using var offList = new TcpListener(IPAddress.Loopback, 0);
        allowed.Start();
        offList.Start();
        var allowedPort = ((IPEndPoint)allowed.LocalEndpoint).Port;
        var offListPort = ((IPEndPoint)offList.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var socket = await allowed.AcceptSocketAsync();
            await socket.ReceiveAsync(new byte[8192]);
            await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{offListPort}/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        });

        using var provider = Services($"http://127.0.0.1:{allowedPort}/api");
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("any");
        using var response = await client.PostAsync(new Uri($"http://127.0.0.1:{allowedPort}/api/v2/models/m/infer"), new StringContent("{\"secret\":1}"));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        await server;
        Assert.False(offList.Pending(), "the redirect target was contacted");
    }

    [Fact]
    public async Task FactoryClient_HostOffTheList_Refused()
    {
        using var provider = Services("http://127.0.0.1:7072/api");
        var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("any");
        await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(new Uri("http://127.0.0.1:7999/")));
    }

    private static ServiceProvider Services(string inferenceBaseUrl)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessServe:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["ServerlessServe:Gateway:InferenceBaseUrl"] = inferenceBaseUrl,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddServerlessServe(configuration);
        return services.BuildServiceProvider();
    }
}
