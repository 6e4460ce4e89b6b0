using System.Net;
using System.Text.Json;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// A request no route and method take gets the catch-all function's answer, the same one the Functions host gives:
/// 405 with <c>Allow</c> on an existing path, 404 elsewhere, a V2 error body either way, and no audit record.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class UnmatchedRouteTests(InProcessStack stack)
{
    [Theory]
    [InlineData("DELETE", "v2/models/credit-risk/infer", "POST")]
    [InlineData("GET", "v2/models/credit-risk/versions/1/infer", "POST")]
    [InlineData("POST", "v2/models/credit-risk", "GET, HEAD")]
    [InlineData("PUT", "v2/health/ready", "GET, HEAD")]
    [InlineData("POST", "jobs/some-job", "DELETE, GET, HEAD")]
    public async Task WrongMethod_405WithAllowAndErrorBody(string method, string path, string allow)
    {
        using var client = stack.Client();
        var before = (await stack.AuditLinesAsync()).Count(l => !l.Contains("\"operation\":\"security\"", StringComparison.Ordinal));

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        Assert.Equal("method not allowed", ErrorOf(await response.Content.ReadAsStringAsync()));
        Assert.Equal(before, (await stack.AuditLinesAsync()).Count(l => !l.Contains("\"operation\":\"security\"", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("GET", "nothing")]
    [InlineData("POST", "v2/models/credit-risk/infer/more")]
    [InlineData("GET", "v3/models")]
    public async Task NoSuchRoute_404WithErrorBody(string method, string path)
    {
        using var client = stack.Client();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("no such route", ErrorOf(await response.Content.ReadAsStringAsync()));
    }

    [Theory]
    [InlineData("FUZZ", "v2/health/live")]
    [InlineData("TRACE", "v2/models/credit-risk/infer")]
    public async Task MethodNoFunctionLists_RoutingRefusal_HasTheErrorBody(string method, string path)
    {
        // No function lists these methods, so routing itself refuses (405, no Allow); the standalone host's error-body
        // middleware gives that refusal the V2 error body.
        using var client = stack.Client();

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("method not allowed", ErrorOf(await response.Content.ReadAsStringAsync()));
    }

    private static string? ErrorOf(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("error").GetString();
    }
}
