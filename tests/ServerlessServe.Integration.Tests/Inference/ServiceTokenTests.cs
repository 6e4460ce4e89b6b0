using System.Net;
using System.Net.Http.Headers;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Inference;

/// <summary>The inference app serves models only to the gateway's short-lived service token.</summary>
[Collection(StackCollection.Name)]
public sealed class ServiceTokenTests(StackFixture fixture)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

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
    public async Task Infer_CallerTokenInsteadOfServiceToken_401()
    {
        using var response = await SendAsync(fixture.CallerToken);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [StackFact]
    public async Task Infer_ServiceTokenSignedByAnotherKey_401()
    {
        using var stranger = SigningKeys.CreateP256();
        var forged = new TokenIssuer(stranger, "serverlessserve-gateway", TimeProvider.System).Mint("serverlessserve-gateway", "serverlessserve-inference", TimeSpan.FromMinutes(5));
        using var response = await SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [StackFact]
    public async Task Infer_ServiceTokenLivingLongerThanAllowed_401()
    {
        using var key = SigningKeys.ImportPem(File.ReadAllText(fixture.State.ServiceKey));
        var longLived = new TokenIssuer(key, "serverlessserve-gateway", TimeProvider.System).Mint("serverlessserve-gateway", "serverlessserve-inference", TimeSpan.FromDays(1));
        using var response = await SendAsync(longLived);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [StackFact]
    public async Task Infer_ValidServiceToken_200()
    {
        using var response = await SendAsync(fixture.MintServiceToken());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [StackFact]
    public async Task ModelMetadata_WithoutToken_401()
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.InferenceBaseUrl };
        using var response = await client.GetAsync("v2/models/credit-risk");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(string token)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.InferenceBaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.PostAsync("v2/models/credit-risk/versions/1/infer", StackFixture.Json(Body));
    }
}
