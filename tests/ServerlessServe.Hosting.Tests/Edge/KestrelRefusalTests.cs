using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Standalone;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The refusals Kestrel makes before the app runs — headers too large, a request target too long, a malformed request
/// line or header, headers not received in time — reach the caller with the same JSON error body as every other refusal,
/// over real sockets to the gateway on real Kestrel; a normal request on the next connection is answered as before.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class KestrelRefusalTests(InProcessStack stack)
{
    public static TheoryData<string, int, string> EarlyRefusals() => new()
    {
        { "headers over 32 KiB", 431, "GET /api/v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('a', 40 * 1024) + "\r\n\r\n" },
        { "request target over 8 KiB", 414, "GET /api/v2/health/live?q=" + new string('a', 9 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "malformed request line", 400, "GET /api/v2/health/live HTTP/1.1 extra\r\nHost: x\r\n\r\n" },
        { "malformed header", 400, "GET /api/v2/health/live HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n" },
        { "HTTP/1.1 without Host", 400, "GET /api/v2/health/live HTTP/1.1\r\n\r\n" },
        { "unknown HTTP version", 505, "GET /api/v2/health/live HTTP/7.0\r\nHost: x\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(EarlyRefusals))]
    public async Task EarlyRefusal_JsonErrorBody(string reason, int status, string request)
    {
        var server = await stack.SocketGatewayAsync();
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync(Encoding.Latin1.GetBytes(request));

        var response = await http.ReadResponseAsync();

        Assert.True(response is not null, reason);
        BodyFailureTests.AssertError(response, status, null);
        Assert.Equal("nosniff", response.Headers["X-Content-Type-Options"]);
        Assert.Equal("close", response.Headers["Connection"]);
        await AssertStillServesAsync(server);
    }

    [Fact]
    public async Task HeadersNotCompleteInTime_408JsonErrorBody()
    {
        var server = await stack.SocketGatewayAsync();
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync("GET /api/v2/health/live HTTP/1.1\r\nHost: x\r\n");

        var response = await http.ReadResponseAsync();

        BodyFailureTests.AssertError(response, 408, "request not received in time");
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")]
    [InlineData("HTTP/1.1 404 Not Found\r\nContent-Length: 37\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")]
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")]
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n{\"a\":1}")]
    [InlineData("{\"outputs\":[]}")]
    public void Rewrite_AnythingButAnEarlyRefusalHead_Untouched(string written) =>
        Assert.Null(KestrelRefusalBodies.Rewrite(Encoding.ASCII.GetBytes(written)));

    [Fact]
    public void Rewrite_EarlyRefusalHead_SameHeadWithBody()
    {
        var rewritten = Encoding.ASCII.GetString(KestrelRefusalBodies.Rewrite("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\nDate: Mon, 30 Nov 2026 23:00:00 GMT\r\n\r\n"u8)!);

        var body = Encoding.UTF8.GetString(ErrorBodies.For(431));
        Assert.Equal("request headers too large", System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
        Assert.StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: " + body.Length + "\r\nConnection: close\r\nDate: Mon, 30 Nov 2026 23:00:00 GMT\r\n", rewritten, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Type: application/json", rewritten, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n" + body, rewritten, StringComparison.Ordinal);
    }

    /// <summary>
    /// What the app writes is never rewritten, however its bytes look: a body shaped like an early refusal's head went
    /// through the rewriter a block at a time, and was changed and lengthened past its Content-Length (found in review
    /// 2026-12-07; a model's binary output can end in any bytes a caller chose).
    /// </summary>
    [Fact]
    public async Task AppBodyShapedLikeAnEarlyRefusalHead_SentAsWritten()
    {
        var shaped = "HTTP/1.1 400 x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray();
        Assert.NotNull(KestrelRefusalBodies.Rewrite(shaped));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, KestrelRefusalBodies.UseOn));
        await using var app = builder.Build();
        app.Use(KestrelRefusalBodies.MarkAppResponseAsync);
        app.Run(async context =>
        {
            context.Response.ContentLength = shaped.Length;
            await context.Response.StartAsync();
            await context.Response.Body.WriteAsync(shaped);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single();

        await using var http = await RawHttp.ConnectAsync(new Uri(address));
        await http.SendAsync("GET /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        var response = await http.ReadResponseAsync();

        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.Equal(shaped, response.Body);
        await app.StopAsync();
    }

    private static async Task AssertStillServesAsync(Uri server)
    {
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync("GET /api/v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        var response = await http.ReadResponseAsync();
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
    }
}
