using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// A HEAD on a GET route is the GET without its body (RFC 9110 §9.3.2): the same stages (a model route still wants a
/// token), the same status and headers, nothing after the head. Load balancers and uptime monitors probe with HEAD;
/// before 2026-12-08 every GET route answered it 405. Over real Kestrel on loopback, since dropping a HEAD's body is
/// the server's part (the test server passes it on), and on one connection, so a body sent after the head would be read
/// where the next answer must start.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class HeadRequestTests(InProcessStack stack)
{
    private const string Subject = "head-tests";

    // What a HEAD's answer must carry as the GET's does; Date and the request id's value differ by nature.
    private static readonly string[] HeadersOfTheGet =
        ["Content-Type", "Content-Length", "Cache-Control", "X-Content-Type-Options", "WWW-Authenticate"];

    [Theory]
    [InlineData("/api/v2/health/live", false, 200)]
    [InlineData("/api/v2/health/ready", false, null)]
    [InlineData("/api/v2", false, 200)]
    [InlineData("/api/v2/models/credit-risk", true, 200)]
    [InlineData("/api/v2/models/credit-risk/versions/1", true, 200)]
    [InlineData("/api/v2/models/credit-risk/ready", true, 200)]
    [InlineData("/api/v2/models/credit-risk", false, 401)]
    [InlineData("/api/v2/models/no-such-model", true, 404)]
    public async Task Gateway_Head_TheGetsAnswerWithoutBody(string path, bool token, int? status)
    {
        var server = await stack.SocketGatewayAsync();
        stack.SocketGatewayLogs.Clear();

        var (head, get) = await HeadThenGetAsync(server, path, token ? stack.CallerToken(Subject) : null);

        // Readiness is 200 or 503 by the moment (the socket gateway may have just started): the GET's, whichever.
        Assert.Equal(status ?? get.Status, head.Status);
        AssertTheGetsAnswer(head, get);
        Assert.DoesNotContain(stack.SocketGatewayLogs.GetSnapshot(), r => r.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData("/api/v2/health/live")]
    [InlineData("/api/v2")]
    public async Task Inference_Head_TheGetsAnswerWithoutBody(string path)
    {
        var server = await stack.SocketInferenceAsync();

        var (head, get) = await HeadThenGetAsync(server, path, null);

        Assert.Equal(200, head.Status);
        AssertTheGetsAnswer(head, get);
    }

    [Fact]
    public async Task Admin_HeadOnHealth_200()
    {
        // The admin app runs on the test server only here: its status is what this shows; the body is the server's part.
        using var client = stack.AdminClient();

        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "manage/health"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static void AssertTheGetsAnswer(RawResponse head, RawResponse get)
    {
        Assert.Equal(get.Status, head.Status);
        foreach (var name in HeadersOfTheGet)
        {
            Assert.Equal(get.Headers.GetValueOrDefault(name), head.Headers.GetValueOrDefault(name));
        }

        Assert.Equal(get.Headers.ContainsKey("x-request-id"), head.Headers.ContainsKey("x-request-id"));
        Assert.Empty(head.Body);

        // The GET's length is what it sent, so the HEAD's copy of it is true.
        Assert.Equal(get.Headers["Content-Length"], get.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    // A HEAD and then a GET of path on one connection, the GET closing it; each answer as read off the wire, the HEAD's
    // body being whatever came between its head and the GET's status line.
    private static async Task<(RawResponse Head, RawResponse Get)> HeadThenGetAsync(Uri server, string path, string? token)
    {
        string[] authorization = token is null ? [] : ["Authorization: Bearer " + token];
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync([.. RawHttp.Head("HEAD", server, path, authorization), .. RawHttp.Head("GET", server, path, [.. authorization, "Connection: close"])]);
        var wire = await http.ReadToEndAsync();

        var (head, headEnd) = ParseHead(wire, 0);
        var getStart = wire.AsSpan(headEnd).IndexOf("HTTP/1.1 "u8);
        Assert.True(getStart >= 0, "no answer to the GET after the HEAD's");
        var (get, getEnd) = ParseHead(wire, headEnd + getStart);
        return (head with { Body = wire[headEnd..(headEnd + getStart)] }, get with { Body = wire[getEnd..] });
    }

    private static (RawResponse Response, int BodyStart) ParseHead(byte[] wire, int start)
    {
        var end = wire.AsSpan(start).IndexOf("\r\n\r\n"u8);
        Assert.True(end >= 0, "an answer without the end of its head");
        var lines = Encoding.ASCII.GetString(wire, start, end).Split("\r\n");
        var headers = lines.Skip(1)
            .Select(l => (Name: l[..l.IndexOf(':', StringComparison.Ordinal)].Trim(), Value: l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()))
            .ToDictionary(h => h.Name, h => h.Value, StringComparer.OrdinalIgnoreCase);
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return (new RawResponse(status, headers, []), start + end + 4);
    }
}
