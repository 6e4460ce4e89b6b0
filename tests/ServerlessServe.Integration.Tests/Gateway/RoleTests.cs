using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Integration.Tests.Gateway;

/// <summary>A model whose policy names roles serves only callers whose token carries one of them.</summary>
[Collection(StackCollection.Name)]
public sealed class RoleTests(StackFixture fixture)
{
    private const string Body = """{"inputs":[{"name":"customer_id","shape":[1],"datatype":"INT64","data":[0]}]}""";

    [StackFact]
    public async Task Infer_PolicyWithRoles_OnlyCallersWithARoleServed()
    {
        var name = "restricted-" + Guid.NewGuid().ToString("N")[..6];
        var policy = JsonNode.Parse(SampleModels.GetPolicy(CustomerNotesSample.Name))!.AsObject();
        policy["roles"] = new JsonArray("note-reader");
        using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(fixture.State.ModelSigningKey));
        using var trusted = TrustedSigners.FromKeys(SigningKeys.ImportPem(await File.ReadAllTextAsync(fixture.State.ModelSigningPublicKey)));
        var store = new ModelStore(fixture.Blobs.GetBlobContainerClient(ModelStoreLayout.DefaultContainerName), trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
        await store.PublishAsync(ModelPackager.Pack(
            name, "1", SampleModels.BuildModel(CustomerNotesSample.Name), JsonSerializer.SerializeToUtf8Bytes(policy), signer, DateTimeOffset.UtcNow));

        // Without a role the model answers as if it did not exist (ServerlessServe:Edge:HideModelExistence, default on).
        using var withoutRole = await SendAsync(name, fixture.MintCallerToken("no-roles"));
        Assert.Equal(HttpStatusCode.NotFound, withoutRole.StatusCode);
        Assert.Equal("error", Assert.Single(JsonDocument.Parse(await withoutRole.Content.ReadAsStringAsync()).RootElement.EnumerateObject()).Name);

        var ssctlToken = await Ssctl.RunAsync(fixture, "token", "--state", fixture.State.Directory, "--sub", "reader", "--role", "note-reader");
        Assert.Equal(0, ssctlToken.ExitCode);
        using var withRole = await SendAsync(name, ssctlToken.Output.Trim());
        Assert.Equal(HttpStatusCode.OK, withRole.StatusCode);

        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.MintCallerToken("no-roles"));
        using var metadata = await client.GetAsync($"v2/models/{name}");
        Assert.Equal(HttpStatusCode.NotFound, metadata.StatusCode);
    }

    private async Task<HttpResponseMessage> SendAsync(string model, string token)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.PostAsync($"v2/models/{model}/infer", StackFixture.Json(Body));
    }
}
