using System.Text;
using Microsoft.Extensions.Logging;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// Bodies that do not arrive as declared, sent over real sockets to both apps on real Kestrel: a stall or a trickle is a
/// 408, a body short of its Content-Length or with broken chunked framing a 400, an upload cut off gets no answer —
/// never a 500, and never an error-level log with a stack trace. Each answer has the V2 error body.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class BodyFailureTests(InProcessStack stack)
{
    private const string Request = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    public static TheoryData<string> BodyRoutes => new() { "/api/v2/models/credit-risk/infer", "/api/v2/models/credit-risk/versions/1/infer", "/api/v2/models/credit-risk/jobs" };

    [Theory]
    [MemberData(nameof(BodyRoutes))]
    public async Task BodyThatStalls_408WithErrorBodyAndClose(string path)
    {
        var server = await stack.SocketGatewayAsync();
        stack.SocketGatewayLogs.Clear();
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync(Head(server, path, $"Content-Length: {Request.Length}"));
        await http.SendAsync(Request[..20]);

        var response = await http.ReadResponseAsync();

        AssertError(response, 408, "request body not received in time");
        Assert.Equal("close", response!.Headers["Connection"]);
        AssertNoErrorLogs(stack.SocketGatewayLogs);
    }

    [Theory]
    [MemberData(nameof(BodyRoutes))]
    public async Task BodyShortOfContentLengthThenClosed_NoAnswerOr400_Never500(string path)
    {
        // Kestrel takes the client's half-close as the end of the connection and aborts the request: usually there is no
        // one left to answer; a 400 with the error body is the only other acceptable answer.
        var server = await stack.SocketGatewayAsync();
        stack.SocketGatewayLogs.Clear();
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync(Head(server, path, $"Content-Length: {Request.Length + 100}"));
        await http.SendAsync(Request);
        http.EndSending();

        var response = await http.ReadResponseAsync();

        if (response is not null)
        {
            AssertError(response, 400, "request body is incomplete or malformed");
        }

        AssertNoErrorLogs(stack.SocketGatewayLogs);
    }

    [Theory]
    [InlineData("zz\r\n{}\r\n0\r\n\r\n")]
    [InlineData("5\r\n{\"inputs\":[]}\r\n0\r\n\r\n")]
    [InlineData("ffffffffffffffffff\r\n{}")]
    public async Task MalformedChunkedBody_400WithErrorBody(string chunked)
    {
        var server = await stack.SocketGatewayAsync();
        stack.SocketGatewayLogs.Clear();
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", "Transfer-Encoding: chunked"));
        await http.SendAsync(chunked);

        var response = await http.ReadResponseAsync();

        AssertError(response, 400, null);
        AssertNoErrorLogs(stack.SocketGatewayLogs);
    }

    [Fact]
    public async Task BodyBelowMinimumDataRate_408()
    {
        // 240 bytes a second after a 2 s grace period; these 20 bytes every 0.4 s (50 a second) never stall for the 1 s
        // idle timeout, so it is Kestrel's rate check that refuses them.
        var response = await TrickleAsync(bytes: 20, every: TimeSpan.FromMilliseconds(400), times: 200);

        AssertError(response, 408, "request body not received in time");
        AssertNoErrorLogs(stack.SocketGatewayLogs);
    }

    [Fact]
    public async Task BodyFastEnoughForEveryRateCheck_StillArrivingAtTheTotalTimeout_408()
    {
        // 200 bytes every 0.3 s (about 670 a second): never idle for 1 s and above Kestrel's 240 a second, so only the
        // 5 s total ends it, long before the 100,000 bytes (2.5 minutes at this pace) would have arrived.
        var response = await TrickleAsync(bytes: 200, every: TimeSpan.FromMilliseconds(300), times: 100);

        AssertError(response, 408, "request body not received in time");
        Assert.Contains(stack.SocketGatewayLogs.GetSnapshot(), r => r.Id.Id == 1234);
        AssertNoErrorLogs(stack.SocketGatewayLogs);
    }

    // A body of 100,000 declared bytes sent to the socket gateway's infer route a few bytes at a time, until it answers
    // (or closes) or the sends run out; returns the answer.
    private async Task<RawResponse?> TrickleAsync(int bytes, TimeSpan every, int times)
    {
        var server = await stack.SocketGatewayAsync();
        stack.SocketGatewayLogs.Clear();
        await using var http = await RawHttp.ConnectAsync(server);
        await http.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", "Content-Length: 100000"));
        var reading = http.ReadResponseAsync();
        var trickle = Encoding.ASCII.GetBytes(new string(' ', bytes));
        for (var i = 0; i < times && !reading.IsCompleted; i++)
        {
            try
            {
                await http.SendAsync(trickle);
            }
            catch (IOException)
            {
                break;
            }

            await Task.WhenAny(reading, Task.Delay(every));
        }

        return await reading;
    }

    [Fact]
    public async Task ChunkedUploadCutOff_NoAnswerNoErrorLogAndTheServerGoesOn()
    {
        var server = await stack.SocketGatewayAsync();
        stack.SocketGatewayLogs.Clear();
        await using (var http = await RawHttp.ConnectAsync(server))
        {
            await http.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", "Transfer-Encoding: chunked"));
            await http.SendAsync("4\r\n{\"in\r\n4\r\nputs\r\n");
            http.Reset();
        }

        await using var next = await RawHttp.ConnectAsync(server);
        await next.SendAsync(RawHttp.Head("GET", server, "/api/v2/health/live", "Connection: close"));
        var live = await next.ReadResponseAsync();

        Assert.Equal(200, live!.Status);
        AssertNoErrorLogs(stack.SocketGatewayLogs);
    }

    [Fact]
    public async Task HundredMegabyteChunkedUpload_413OrClosedNever500()
    {
        var server = await stack.SocketGatewayAsync();
        stack.SocketGatewayLogs.Clear();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            await using var http = await RawHttp.ConnectAsync(server);
            await http.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", "Transfer-Encoding: chunked"));
            var reading = http.ReadResponseAsync();
            var chunk = Encoding.ASCII.GetBytes("10000\r\n" + new string('1', 0x10000) + "\r\n");
            for (var sent = 0L; sent < 100L * 1024 * 1024 && !reading.IsCompleted; sent += 0x10000)
            {
                try
                {
                    await http.SendAsync(chunk);
                }
                catch (IOException)
                {
                    break;
                }
            }

            var response = await reading;
            if (response is not null)
            {
                AssertError(response, 413, null);
            }
        }

        AssertNoErrorLogs(stack.SocketGatewayLogs);
    }

    [Fact]
    public async Task InferenceApp_BodyThatStallsEndsShortOrBreaksFraming_408NoAnswerAnd400()
    {
        var server = await stack.SocketInferenceAsync();
        stack.SocketInferenceLogs.Clear();
        var token = "Authorization: Bearer " + stack.Issuer.MintGatewayToken();
        await using (var stalled = await RawHttp.ConnectAsync(server))
        {
            await stalled.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", token, $"Content-Length: {Request.Length}"));
            await stalled.SendAsync(Request[..20]);
            var response = await stalled.ReadResponseAsync();
            Assert.True(response is not null, string.Join('\n', stack.SocketInferenceLogs.GetSnapshot().Select(r => $"{r.Category} {r.Id}: {r.Message} {r.Exception}")));
            AssertError(response, 408, "request body not received in time");
        }

        await using (var shortBody = await RawHttp.ConnectAsync(server))
        {
            await shortBody.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", token, $"Content-Length: {Request.Length + 100}"));
            await shortBody.SendAsync(Request);
            shortBody.EndSending();
            if (await shortBody.ReadResponseAsync() is { } answered)
            {
                AssertError(answered, 400, "request body is incomplete or malformed");
            }
        }

        await using (var malformed = await RawHttp.ConnectAsync(server))
        {
            await malformed.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", token, "Transfer-Encoding: chunked"));
            await malformed.SendAsync("zz\r\n{}\r\n0\r\n\r\n");
            AssertError(await malformed.ReadResponseAsync(), 400, "request body is incomplete or malformed");
        }

        AssertNoErrorLogs(stack.SocketInferenceLogs);
    }

    /// <summary>
    /// The inference app reads a binary body from the socket straight into its tensors: a body that stalls inside a
    /// tensor, ends short of its length or breaks the chunked framing there is refused as a buffered one is, and a whole
    /// one sent chunked in small pieces is served.
    /// </summary>
    [Fact]
    public async Task InferenceApp_BinaryBodyStallsEndsShortOrBreaksFramingInsideATensor_408NoAnswerAnd400_WholeOneServed()
    {
        var server = await stack.SocketInferenceAsync();
        stack.SocketInferenceLogs.Clear();
        var token = "Authorization: Bearer " + stack.Issuer.MintGatewayToken();
        var header = Encoding.ASCII.GetBytes("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}""");
        var features = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new[] { 0.35f, 0.4f, 1f, 9f }.AsSpan()).ToArray();
        byte[] body = [.. header, .. features];
        string[] binary = ["Content-Type: application/octet-stream", $"Inference-Header-Content-Length: {header.Length}"];

        await using (var stalled = await RawHttp.ConnectAsync(server))
        {
            await stalled.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", [token, .. binary, $"Content-Length: {body.Length}"]));
            await stalled.SendAsync(body[..(header.Length + 6)]);
            AssertError(await stalled.ReadResponseAsync(), 408, "request body not received in time");
        }

        await using (var shortBody = await RawHttp.ConnectAsync(server))
        {
            await shortBody.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", [token, .. binary, $"Content-Length: {body.Length + 100}"]));
            await shortBody.SendAsync(body);
            shortBody.EndSending();
            if (await shortBody.ReadResponseAsync() is { } answered)
            {
                AssertError(answered, 400, "request body is incomplete or malformed");
            }
        }

        await using (var malformed = await RawHttp.ConnectAsync(server))
        {
            await malformed.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", [token, .. binary, "Transfer-Encoding: chunked"]));
            await malformed.SendAsync(Chunk(body[..(header.Length + 5)]));
            await malformed.SendAsync("zz\r\n");
            AssertError(await malformed.ReadResponseAsync(), 400, "request body is incomplete or malformed");
        }

        await using (var whole = await RawHttp.ConnectAsync(server))
        {
            await whole.SendAsync(Head(server, "/api/v2/models/credit-risk/infer", [token, .. binary, "Transfer-Encoding: chunked"]));
            for (var at = 0; at < body.Length; at += 7)
            {
                await whole.SendAsync(Chunk(body[at..Math.Min(body.Length, at + 7)]));
            }

            await whole.SendAsync("0\r\n\r\n");
            var served = await whole.ReadResponseAsync();
            Assert.NotNull(served);
            Assert.True(served.Status == 200, $"{served.Status}: {served.Text}");
            Assert.Contains("\"model_name\":\"credit-risk\"", served.Text, StringComparison.Ordinal);
        }

        AssertNoErrorLogs(stack.SocketInferenceLogs);
    }

    private static byte[] Chunk(byte[] data) => [.. Encoding.ASCII.GetBytes($"{data.Length:x}\r\n"), .. data, .. "\r\n"u8];

    private byte[] Head(Uri server, string path, params string[] headers) =>
        RawHttp.Head(
            "POST",
            server,
            path,
            [
                .. headers.Any(h => h.StartsWith("Authorization", StringComparison.Ordinal)) ? [] : new[] { "Authorization: Bearer " + stack.CallerToken("edge-body-tests") },
                .. headers.Any(h => h.StartsWith("Content-Type", StringComparison.Ordinal)) ? [] : new[] { "Content-Type: application/json" },
                .. headers,
            ]);

    internal static void AssertError(RawResponse? response, int status, string? message)
    {
        Assert.NotNull(response);
        Assert.True(response.Status == status, $"{response.Status}: {response.Text}");
        Assert.StartsWith("application/json", response.Headers["Content-Type"], StringComparison.Ordinal);
        if (message is not null)
        {
            Assert.Equal(message, response.Error());
        }
        else
        {
            Assert.False(string.IsNullOrEmpty(response.Error()));
        }
    }

    internal static void AssertNoErrorLogs(Microsoft.Extensions.Logging.Testing.FakeLogCollector logs)
    {
        var errors = logs.GetSnapshot().Where(r => r.Level >= LogLevel.Error || r.Exception is not null).Select(r => $"{r.Category} {r.Id}: {r.Message} {r.Exception?.GetType().Name}").ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }
}
