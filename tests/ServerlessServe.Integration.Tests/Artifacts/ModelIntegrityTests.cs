using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Integration.Tests.Artifacts;

/// <summary>
/// Altered or unsigned artifacts in storage are refused by both apps, and the previous good version keeps serving.
/// The steps share one test because each changes which version is newest.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ModelIntegrityTests(StackFixture fixture)
{
    private const string Model = "credit-risk";
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

    [StackFact]
    public async Task TamperedOrUnsignedVersions_Refused_PreviousVersionKeepsServing()
    {
        var container = fixture.Blobs.GetBlobContainerClient(ModelStoreLayout.DefaultContainerName);
        using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(fixture.State.ModelSigningKey));
        using var trusted = TrustedSigners.FromPem([await File.ReadAllTextAsync(fixture.State.ModelSigningPublicKey)]);
        var store = new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
        var baseline = await ServedVersionAsync();

        // 1. Model bytes altered after publishing.
        var v2 = await PublishAsync(store, signer, "2", "two");
        var modelBlob = container.GetBlobClient(ModelStoreLayout.ContentPath(v2.Manifest.Files[ModelStoreLayout.ModelFile].Sha256));
        var altered = v2.Files.Single(f => f.Name == ModelStoreLayout.ModelFile).Content.ToArray();
        altered[^1] ^= 0x5a;
        await modelBlob.UploadAsync(BinaryData.FromBytes(altered), overwrite: true);
        Assert.Equal(baseline, await ServedVersionAsync());
        await AssertVersionRefusedAsync("2");

        // 2. Manifest altered (a digest swapped for another file's): the signature no longer matches.
        var v3 = await PublishAsync(store, signer, "3", "three");
        var manifestBlob = container.GetBlobClient(ModelStoreLayout.ManifestPath(Model, "3"));
        var manifestText = Encoding.UTF8.GetString(v3.ManifestJson.ToArray());
        var forged = manifestText.Replace(v3.Manifest.Files[ModelStoreLayout.ModelFile].Sha256, v2.Manifest.Files[ModelStoreLayout.ModelFile].Sha256, StringComparison.Ordinal);
        Assert.NotEqual(manifestText, forged);
        await manifestBlob.UploadAsync(BinaryData.FromString(forged), overwrite: true);
        Assert.Equal(baseline, await ServedVersionAsync());
        await AssertVersionRefusedAsync("3");

        // 3. Signed by a key nobody trusts.
        using var stranger = SigningKeys.CreateP256();
        await PublishAsync(store, stranger, "4", "four");
        Assert.Equal(baseline, await ServedVersionAsync());
        await AssertVersionRefusedAsync("4");

        // 4. A good new version is served as soon as it is published: the fallback is not stuck on the baseline.
        await PublishAsync(store, signer, "5", "five");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string served;
        while ((served = await ServedVersionAsync()) != "5" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal("5", served);
    }

    private static async Task<ModelPackage> PublishAsync(ModelStore store, System.Security.Cryptography.ECDsa signer, string version, string tag)
    {
        // A distinct model file per version (same graph, different doc string), so each has its own content blob.
        var model = global::Onnx.ModelProto.Parser.ParseFrom(SampleModels.BuildModel(Model));
        model.DocString = "integrity test version " + tag;
        var package = ModelPackager.Pack(Model, version, model.ToByteArray(), SampleModels.GetPolicy(Model), signer, DateTimeOffset.UtcNow);
        await store.PublishAsync(package);
        return package;
    }

    private async Task<string> ServedVersionAsync()
    {
        using var response = await fixture.Gateway.PostAsync($"v2/models/{Model}/infer", StackFixture.Json(Body));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body + fixture.LogTail());
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("model_version").GetString()!;
    }

    private async Task AssertVersionRefusedAsync(string version)
    {
        using var response = await fixture.Gateway.PostAsync($"v2/models/{Model}/versions/{version}/infer", StackFixture.Json(Body));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("error", Assert.Single(JsonDocument.Parse(body).RootElement.EnumerateObject()).Name);

        // The inference app refuses it too when asked directly with the gateway's token.
        using var inference = new HttpClient { BaseAddress = fixture.Stack.InferenceBaseUrl };
        inference.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", fixture.GatewayToken());
        using var direct = await inference.PostAsync($"v2/models/{Model}/versions/{version}/infer", StackFixture.Json(Body));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, direct.StatusCode);

        // Both say the refusal concerns this version only, so the gateway neither retries it nor lets it open the
        // breaker that guards every other model (InferenceResilience).
        Assert.Equal("version", Assert.Single(response.Headers.GetValues("x-serverlessserve-refusal-scope")));
        Assert.Equal("version", Assert.Single(direct.Headers.GetValues("x-serverlessserve-refusal-scope")));
    }
}
