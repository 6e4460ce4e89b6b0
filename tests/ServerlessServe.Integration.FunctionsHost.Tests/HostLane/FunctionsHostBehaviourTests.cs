using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.HostLane;

/// <summary>
/// What the Functions host decides before the worker sees a request, with the settings chosen to make it safe
/// (docs/design.md, "Two hosts"): no landing page, its own key-protected routes, request bodies cut at the gateway's
/// own limit and stalled uploads dropped — never a worker, an audit record or another caller affected.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class FunctionsHostBehaviourTests(StackFixture fixture)
{
    private const string CreditRisk = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

    [StackFact]
    public async Task Root_NoLandingPage()
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };

        using var response = await client.GetAsync(new Uri("/", UriKind.Relative));

        // AzureWebJobsDisableHomepage=true: the host answers 204 with nothing instead of its HTML page.
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [StackTheory]
    [InlineData("/admin/host/status")]
    [InlineData("/admin/functions")]
    [InlineData("/runtime/webhooks/durabletask/instances")]
    public async Task HostRoutes_RefusedWithoutTheMasterKey(string path)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };

        // A caller token is no key to the host's own management routes.
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new("Bearer", fixture.CallerToken);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [StackFact]
    public async Task DeclaredBodyOverTheLimit_RefusedBeforeAnyOfItIsSent()
    {
        var records = await fixture.RequestRecordCountAsync();

        // Only the headers go out: the answer has to come without the host waiting for (or buffering) the body.
        var (status, body) = await RawPostAsync((16 * 1024 * 1024) + 1, sendBytes: 0, TimeSpan.FromSeconds(30));

        Assert.Equal(500, status);
        Assert.Equal("", body);
        Assert.Equal(records, await fixture.RequestRecordCountAsync());
    }

    [StackFact]
    public async Task StalledBody_DroppedByTheHost_OtherCallersServed()
    {
        var records = await fixture.RequestRecordCountAsync();
        var stalled = RawPostAsync(1000, sendBytes: 10, TimeSpan.FromSeconds(60));

        // While one upload stalls, another caller is served as usual.
        using (var response = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(CreditRisk)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Kestrel's minimum body data rate (240 bytes/s after a 5 s grace period) ends it with the host's empty 500.
        var (status, body) = await stalled;
        Assert.Equal(500, status);
        Assert.Equal("", body);
        Assert.Equal(records + 1, await fixture.RequestRecordCountAsync());
    }

    [StackFact]
    public async Task ServerHeader_NamesTheWebServerOnly()
    {
        using var response = await fixture.Gateway.GetAsync("v2/health/live");

        // The host's Kestrel adds it and no host setting removes it: the name, no version (documented difference).
        Assert.Equal("Kestrel", response.Headers.Server.ToString());
    }

    [StackTheory]
    [InlineData("TRACE", "v2/models/credit-risk/infer")]
    [InlineData("TRACE", "v2/health/live")]
    [InlineData("FOO", "v2/models/credit-risk")]
    [InlineData("PROPFIND", "v2")]
    public async Task MethodNoFunctionLists_TheHostsEmpty404_NothingEchoedNoWorkerReached(string method, string path)
    {
        var records = await fixture.RequestRecordCountAsync();
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new("Bearer", fixture.CallerToken);
        request.Headers.Add("X-Probe", "echo-me");

        using var response = await client.SendAsync(request);

        // Standalone, routing answers 405 with the error body (UnmatchedRouteTests); the host answers before any function: 404,
        // no body, so nothing of the request (TRACE's echo included) comes back, and no worker runs a pipeline.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.False(response.Headers.Contains("x-request-id"));
        Assert.DoesNotContain(response.Headers, h => h.Value.Any(v => v.Contains("echo-me", StringComparison.Ordinal)));
        Assert.Equal(records, await fixture.RequestRecordCountAsync());
    }

    private async Task<(int Status, string Body)> RawPostAsync(long contentLength, int sendBytes, TimeSpan timeout)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, fixture.Stack.GatewayPort);
        var stream = client.GetStream();
        var head = $"POST /api/v2/models/credit-risk/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {fixture.CallerToken}\r\n" +
                   $"Content-Type: application/json\r\nContent-Length: {contentLength}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(new byte[sendBytes]);
        using var cancel = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        var watch = Stopwatch.StartNew();
        while (!HasCompleteResponse(received.ToArray()))
        {
            var read = await stream.ReadAsync(buffer, cancel.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        var text = Encoding.ASCII.GetString(received.ToArray());
        Assert.True(text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal), $"no HTTP answer after {watch.Elapsed}: {text}");
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return (int.Parse(text.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture), text[(split + 4)..]);
    }

    private static bool HasCompleteResponse(byte[] bytes)
    {
        var text = Encoding.ASCII.GetString(bytes);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (split < 0)
        {
            return false;
        }

        var length = text[..split].Split("\r\n").Select(h => h.Split(':', 2)).Where(p => p.Length == 2 && p[0].Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).Select(p => int.Parse(p[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        return text.Length - split - 4 >= length;
    }
}
