using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Gateway;

/// <summary>Bodies in a media type the gateway does not read get 415 (audited); every output the metadata lists can be asked for.</summary>
[Collection(StackCollection.Name)]
public sealed class MediaTypeAndOutputsTests(StackFixture fixture)
{
    private const string Valid = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [StackTheory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task Infer_ValidJsonAsOtherMediaType_415WithErrorBody(string mediaType)
    {
        using var content = new StringContent(Valid, Encoding.UTF8, mediaType);

        using var response = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.String, body.RootElement.GetProperty("error").ValueKind);
        Assert.True(response.Headers.Contains("x-request-id"));
    }

    [StackFact]
    public async Task Infer_NoContentType_ServedAsV2ClientsSendIt()
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Valid));

        using var response = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", content);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync() + fixture.LogTail());
    }

    [StackFact]
    public async Task Infer_EveryOutputTheMetadataLists_Served()
    {
        using var metadata = JsonDocument.Parse(await fixture.Gateway.GetStringAsync("v2/models/credit-risk"));
        var names = metadata.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()!).ToList();
        Assert.Contains("probabilities_classes", names);
        var outputs = string.Join(',', names.Select(n => $$"""{"name":"{{n}}"}"""));
        var request = $$"""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}],"outputs":[{{outputs}}]}""";

        using var response = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(request));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text + fixture.LogTail());
        using var body = JsonDocument.Parse(text);
        Assert.Equal(names.Order(StringComparer.Ordinal), body.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
    }

    [StackFact]
    public async Task Infer_OnlyTheClassesAskedFor_OnlyThatOutputReleased()
    {
        const string Request = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}],"outputs":[{"name":"probabilities_classes"}]}""";

        using var response = await fixture.Gateway.PostAsync("v2/models/credit-risk/infer", StackFixture.Json(Request));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var body = JsonDocument.Parse(text);
        Assert.Equal("probabilities_classes", Assert.Single(body.RootElement.GetProperty("outputs").EnumerateArray()).GetProperty("name").GetString());
    }

    [StackFact]
    public async Task Infer_NoToken_401AndNoAuditRecord()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = StackFixture.Json(Valid) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");

        using var response = await fixture.Gateway.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        var requestId = response.Headers.GetValues("x-request-id").Single();
        Assert.False(await AuditContainsAsync(requestId));
    }

    private async Task<bool> AuditContainsAsync(string requestId)
    {
        var container = fixture.Blobs.GetBlobContainerClient("audit");
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "chains/", default))
        {
            var text = (await container.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString();
            if (text.Contains(requestId, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
