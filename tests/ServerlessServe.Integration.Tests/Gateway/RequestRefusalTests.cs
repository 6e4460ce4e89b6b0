using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Gateway;

/// <summary>Bad requests get the right 4xx, a <c>{"error"}</c> body, and never an echo of what was sent.</summary>
[Collection(StackCollection.Name)]
public sealed class RequestRefusalTests(StackFixture fixture)
{
    // A distinctive value placed in each bad request; it must never come back.
    private const string Marker = "987654321";

    public static TheoryData<string, string, int> BadBodies() => new()
    {
        { "malformed JSON", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[987654321,""", 400 },
        { "depth 65", Nest(65), 400 },
        { "duplicate key", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","datatype":"FP64","data":[1,2,3,987654321]}]}""", 400 },
        { "unknown field", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"x987654321":1}""", 400 },
        { "NaN literal", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,NaN,987654321]}]}""", 400 },
        { "NaN string", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,"NaN",987654321]}]}""", 400 },
        { "wrong shape", """{"inputs":[{"name":"features","shape":[1,3],"datatype":"FP32","data":[1,2,987654321]}]}""", 400 },
        { "shape/data mismatch", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,987654321]}]}""", 400 },
        { "wrong datatype", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"INT64","data":[1,2,3,987654321]}]}""", 400 },
        { "out of policy range", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,987654321]}]}""", 400 },
        { "unknown input name", """{"inputs":[{"name":"x987654321","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""", 400 },
        { "unknown parameter", """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"parameters":{"p987654321":true}}""", 400 },
        { "batch over policy", Batch(65), 400 },
    };

    [StackTheory]
    [MemberData(nameof(BadBodies))]
    public async Task Infer_BadBody_RefusedWithoutEcho(string reason, string body, int status)
    {
        using var response = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(body));
        await AssertRefused(response, status, reason);
    }

    [StackFact]
    public async Task Infer_OversizedBody_RefusedWithoutTheUpload()
    {
        var big = new StringBuilder("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"id":" """);
        big.Append('9', 17 * 1024 * 1024).Append("\"}");
        // As curl and Triton's clients do for large bodies: ask before sending, so the refusal arrives without the upload.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = StackFixture.Json(big.ToString()) };
        request.Headers.ExpectContinue = true;
        using var response = await fixture.Gateway.SendAsync(request);
        if (fixture.Host == AppHost.Standalone)
        {
            await AssertRefused(response, 413, "oversized body");
            return;
        }

        // Under the Functions host, FUNCTIONS_REQUEST_BODY_SIZE_LIMIT (set to the gateway's own 16 MiB) refuses a
        // declared length over it before the worker sees the request: the host's empty 500 (docs/design.md, "Two hosts").
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [StackTheory]
    [InlineData("v2/models/no-such-model-987654321/infer", 404)]
    [InlineData("v2/models/credit-risk/versions/987654321/infer", 404)]
    [InlineData("v2/models/..%2F..%2Fetc%2Fpasswd987654321/infer", 400)]
    [InlineData("v2/models/..987654321/infer", 400)]
    [InlineData("v2/models/UPPER987654321/infer", 400)]
    public async Task Infer_BadModelReference_Refused(string path, int status)
    {
        using var response = await fixture.Gateway.PostAsync(path, StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""));
        await AssertRefused(response, status, path);
    }

    [StackTheory]
    [InlineData(null)]
    [InlineData("Bearer")]
    [InlineData("Bearer not.a.jwt987654321")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task Infer_MissingOrMalformedToken_401(string? authorization)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer")
        {
            Content = StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request);
        await AssertRefused(response, 401, authorization ?? "no header");
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [StackFact]
    public async Task Infer_TokenFromUnknownIssuerKey_401()
    {
        using var stranger = LocalIssuerKey.Create(LocalIssuerKey.Es256);
        var token = fixture.Stack.Issuer.Mint(stranger, "mallory", lifetime: TimeSpan.FromMinutes(5));
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.PostAsync("v2/models/credit-risk/infer", StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""));
        await AssertRefused(response, 401, "foreign key");
    }

    [StackFact]
    public async Task Infer_ServiceTokenAtGateway_401()
    {
        // The gateway's own token for the inference app: the right issuer, but the inference app's audience, not the callers'.
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.GatewayToken());
        using var response = await client.PostAsync("v2/models/credit-risk/infer", StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""));
        await AssertRefused(response, 401, "service token");
    }

    [StackFact]
    public async Task Infer_AfterRefusals_OtherCallersStillServed()
    {
        using var bad = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json("{{{"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var good = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    private static async Task AssertRefused(HttpResponseMessage response, int status, string reason)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{reason}: expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        var property = Assert.Single(json.RootElement.EnumerateObject());
        Assert.Equal("error", property.Name);
        Assert.False(string.IsNullOrWhiteSpace(property.Value.GetString()));
        Assert.DoesNotContain(Marker, body, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
    }

    private static string Nest(int depth)
    {
        // {"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[[[...987654321...]]]}]} reaching the given depth.
        var open = new string('[', depth - 4);
        var close = new string(']', depth - 4);
        return $$"""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":{{open}}987654321{{close}}}]}""";
    }

    private static string Batch(int rows)
    {
        var data = string.Join(',', Enumerable.Repeat("1,2,3,4", rows));
        return $$"""{"inputs":[{"name":"features","shape":[{{rows}},4],"datatype":"FP32","data":[{{data}}]}],"id":"987654321"}""";
    }
}
