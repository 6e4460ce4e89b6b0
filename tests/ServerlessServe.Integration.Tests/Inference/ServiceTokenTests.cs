using System.Net;
using System.Net.Http.Headers;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Inference;

/// <summary>
/// The inference app serves only the gateway: tokens of the services' issuer (the stack's local issuer, as the Entra
/// ID tenant in Azure) for its own audience, from the gateway's managed identity. The gateway gets them through the
/// local issuer's managed identity endpoint with Azure.Identity's unchanged <c>ManagedIdentityCredential</c>. Every
/// other token — a caller's, another identity's, the gateway's for another audience, one signed by a stranger — gets
/// the same 401 as no token at all, and the inference app logs why.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ServiceTokenTests(StackFixture fixture)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";
    private const string AnotherIdentity = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";

    public static TheoryData<string> Routes() => new()
    {
        "v2/models/credit-risk/versions/1/infer",
        "v2/models/credit-risk/infer",
    };

    [StackTheory]
    [MemberData(nameof(Routes))]
    public async Task Infer_WithoutToken_401(string route)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.InferenceBaseUrl };
        using var response = await client.PostAsync(route, StackFixture.Json(Body));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [StackFact]
    public async Task Infer_ThroughTheGateway_TheGatewaysManagedIdentityTokenAccepted()
    {
        // The gateway has no other way to the model than its token from the managed identity endpoint.
        using var response = await fixture.Gateway.PostAsync("v2/models/credit-risk/versions/1/infer", StackFixture.Json(Body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    [StackFact]
    public async Task Infer_TokenFromTheManagedIdentityEndpoint_200()
    {
        using var response = await SendAsync(await ManagedIdentityTokenAsync(fixture.Stack.Issuer.ManagedIdentityEndpoint, File.ReadAllText(fixture.State.ManagedIdentitySecret).Trim()));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [StackFact]
    public async Task Infer_ValidCallerToken_401()
    {
        await AssertRefusedAsync(fixture.CallerToken, "audience");
    }

    [StackFact]
    public async Task Infer_InferenceAudienceFromAnotherIdentity_401()
    {
        // What any other app of the tenant could get: a token of the issuer for the inference app's audience.
        var stranger = fixture.Stack.Issuer.MintFor(
            LocalManagedIdentity.InferenceAudience,
            AnotherIdentity,
            new Dictionary<string, string> { ["oid"] = AnotherIdentity, ["azp"] = AnotherIdentity, ["appid"] = AnotherIdentity });
        await AssertRefusedAsync(stranger, "caller_not_allowed");
    }

    [StackFact]
    public async Task Infer_GatewayIdentityForTheCallersAudience_401()
    {
        var misdirected = fixture.Stack.Issuer.MintFor(LocalIssuer.Audience, LocalManagedIdentity.GatewayObjectId, LocalManagedIdentity.GatewayClaims);
        await AssertRefusedAsync(misdirected, "audience");
    }

    [StackFact]
    public async Task Infer_GatewayClaimsSignedByAKeyOutsideTheKeySet_401()
    {
        using var stranger = LocalIssuerKey.Create(LocalIssuerKey.Es256);
        var forged = stranger.Issuer(fixture.Stack.Issuer.Issuer, TimeProvider.System)
            .Mint(LocalManagedIdentity.GatewayObjectId, LocalManagedIdentity.InferenceAudience, TimeSpan.FromMinutes(5), claims: LocalManagedIdentity.GatewayClaims);
        await AssertRefusedAsync(forged, "unknown_kid");
    }

    [StackTheory]
    [InlineData(null)]
    [InlineData("not-the-secret")]
    public async Task ManagedIdentityEndpoint_WithoutTheSecret_401(string? secret)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EndpointFor(fixture.Stack.Issuer.ManagedIdentityEndpoint, LocalManagedIdentity.InferenceAudience));
        if (secret is not null)
        {
            request.Headers.Add(LocalManagedIdentity.SecretHeader, secret);
        }

        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.DoesNotContain("access_token", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [StackFact]
    public async Task ModelMetadata_WithoutToken_401()
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.InferenceBaseUrl };
        using var response = await client.GetAsync("v2/models/credit-risk");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    // The same 401 body as no token at all; the reason only in the inference app's log (event 2010).
    private async Task AssertRefusedAsync(string token, string reason)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.InferenceBaseUrl };
        using var baseline = await client.PostAsync("v2/models/credit-risk/versions/1/infer", StackFixture.Json(Body));
        using var response = await SendAsync(token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(await baseline.Content.ReadAsStringAsync(), await response.Content.ReadAsStringAsync());
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        await WaitForLogAsync($"Request {requestId}: bearer token refused by the service authenticator ({reason})");
    }

    private async Task WaitForLogAsync(string line)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            if (StackFixture.ReadLog(fixture.Stack.InferenceLog).Contains(line, StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "Not in the inference log: " + line + "\n" + fixture.LogTail());
            await Task.Delay(200);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string token)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.InferenceBaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.PostAsync("v2/models/credit-risk/versions/1/infer", StackFixture.Json(Body));
    }

    // The App Service managed identity protocol, as Azure.Identity speaks it.
    private static async Task<string> ManagedIdentityTokenAsync(Uri endpoint, string secret)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EndpointFor(endpoint, LocalManagedIdentity.InferenceAudience));
        request.Headers.Add(LocalManagedIdentity.SecretHeader, secret);
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var expiresOn = long.Parse(json.RootElement.GetProperty("expires_on").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.FromUnixTimeSeconds(expiresOn), DateTimeOffset.UtcNow + TimeSpan.FromMinutes(50), DateTimeOffset.UtcNow + TimeSpan.FromMinutes(61));
        Assert.Equal(LocalManagedIdentity.InferenceAudience, json.RootElement.GetProperty("resource").GetString());
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    private static Uri EndpointFor(Uri endpoint, string resource) =>
        new($"{endpoint.AbsoluteUri}?api-version={LocalManagedIdentity.ApiVersion}&resource={Uri.EscapeDataString(resource)}");
}
