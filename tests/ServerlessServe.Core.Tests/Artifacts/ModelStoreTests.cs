using System.Text;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Core.Tests.Artifacts;

[Collection(AzuriteCollection.Name)]
public sealed class ModelStoreTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task PublishThenLoad_RoundTripsVerifiedBytes()
    {
        var (store, container) = await NewStoreAsync();
        var package = TestPackages.CreditRisk("credit-risk", "1");
        var progress = new List<long>();

        var digest = await store.PublishAsync(package, new SyncProgress(progress.Add));
        var loaded = await store.LoadAsync("credit-risk", "1");

        Assert.Equal(package.ManifestDigest, digest);
        Assert.Equal(digest, loaded.Version.ManifestDigest);
        Assert.Equal(TestPackages.CreditRiskModel, loaded.ModelBytes);
        Assert.Equal(64, loaded.Version.Policy.MaxBatch);
        Assert.Equal(package.ContentBytes, progress.Max());
        Assert.True(await container.GetBlobClient($"sha256/{package.Manifest.Files["model.onnx"].Sha256}").ExistsAsync());
        Assert.True(await container.GetBlobClient("manifests/credit-risk/1/manifest.sig").ExistsAsync());
    }

    [Fact]
    public async Task Publish_LargeFileInBlocks_ReportsProgressAndVerifies()
    {
        var (store, _) = await NewStoreAsync(new ModelStoreOptions { UploadBlockBytes = 64 * 1024 });
        // A ~1 MB model (the credit-risk graph padded with a doc string) crosses many 64 KiB blocks.
        var model = Onnx.ModelProto.Parser.ParseFrom(TestPackages.CreditRiskModel);
        model.DocString = new string('x', 1_000_000);
        var package = ModelPackager.Pack("padded", "1", Google.Protobuf.MessageExtensions.ToByteArray(model), SampleModels.GetPolicy(CreditRiskSample.Name), TestPackages.Signer, TestPackages.Created);

        var progress = new List<long>();
        await store.PublishAsync(package, new SyncProgress(progress.Add));

        Assert.True(progress.Count > 3);
        Assert.Equal(package.ContentBytes, progress[^1]);
        Assert.Equal(package.ManifestDigest, (await store.VerifyAsync(package.Manifest.Name, "1", verifyModelDigest: true)).ManifestDigest);
    }

    [Fact]
    public async Task Publish_SameVersionTwice_RefusedAsImmutable()
    {
        var (store, _) = await NewStoreAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));

        await Assert.ThrowsAsync<ModelVersionExistsException>(() => store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1")));
        await Assert.ThrowsAsync<ModelVersionExistsException>(() => store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1", policy: TestPackages.CreditRiskPolicyWithMaxBatch(2))));
    }

    [Fact]
    public async Task Publish_SharedContent_StoredOnceAndBothVersionsVerify()
    {
        var (store, container) = await NewStoreAsync();

        var v1 = TestPackages.CreditRisk("credit-risk", "1");
        var v2 = TestPackages.CreditRisk("credit-risk", "2");
        await store.PublishAsync(v1);
        await store.PublishAsync(v2);

        var contentBlobs = new List<string>();
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "sha256/", default))
        {
            contentBlobs.Add(blob.Name);
        }

        // model.onnx and policy.json once each, plus each version's own manifest bytes.
        var expected = v1.Manifest.Files.Values.Select(f => f.Sha256).Append(v1.ManifestDigest).Append(v2.ManifestDigest).Select(h => "sha256/" + h).Order(StringComparer.Ordinal);
        Assert.Equal(expected, contentBlobs.Order(StringComparer.Ordinal));
        Assert.Equal(["1", "2"], await store.ListVersionsAsync("credit-risk"));
        await store.VerifyAsync("credit-risk", "2", verifyModelDigest: true);
    }

    [Fact]
    public async Task Load_TamperedModelBlob_RefusedOnDigest()
    {
        var (store, container) = await NewStoreAsync();
        var package = TestPackages.CreditRisk("credit-risk", "1");
        await store.PublishAsync(package);
        var altered = TestPackages.CreditRiskModel.ToArray();
        altered[^10] ^= 0x01;
        await Overwrite(container, $"sha256/{package.Manifest.Files["model.onnx"].Sha256}", altered);

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.LoadAsync("credit-risk", "1"));

        Assert.Equal(ModelVerificationFailure.Digest, error.Failure);
        Assert.Equal(ModelVerificationFailure.Digest, (await Assert.ThrowsAsync<ModelVerificationException>(() => store.VerifyAsync("credit-risk", "1", verifyModelDigest: true))).Failure);
    }

    [Fact]
    public async Task Load_TruncatedPolicyBlob_RefusedOnDigest()
    {
        var (store, container) = await NewStoreAsync();
        var package = TestPackages.CreditRisk("credit-risk", "1");
        await store.PublishAsync(package);
        await Overwrite(container, $"sha256/{package.Manifest.Files["policy.json"].Sha256}", "{}"u8.ToArray());

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.VerifyAsync("credit-risk", "1", verifyModelDigest: false));

        Assert.Equal(ModelVerificationFailure.Digest, error.Failure);
    }

    [Fact]
    public async Task Load_TamperedManifest_RefusedOnSignature()
    {
        var (store, container) = await NewStoreAsync();
        var package = TestPackages.CreditRisk("credit-risk", "1");
        await store.PublishAsync(package);
        var json = Encoding.UTF8.GetString(package.ManifestJson.Span).Replace("\"size\": ", "\"size\":  ", StringComparison.Ordinal);
        await Overwrite(container, "manifests/credit-risk/1/manifest.json", Encoding.UTF8.GetBytes(json));

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.LoadAsync("credit-risk", "1"));

        Assert.Equal(ModelVerificationFailure.Signature, error.Failure);
    }

    [Fact]
    public async Task Load_OversizedSignature_RefusedAsASignatureFailure()
    {
        var (store, container) = await NewStoreAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));
        await Overwrite(container, "manifests/credit-risk/1/manifest.sig", new byte[ManifestSignature.MaxSignatureBytes + 1]);

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.LoadAsync("credit-risk", "1"));

        Assert.Equal(ModelVerificationFailure.Signature, error.Failure);
    }

    [Fact]
    public async Task Load_UnknownSigner_Refused()
    {
        var (store, _) = await NewStoreAsync();
        using var stranger = SigningKeys.CreateP256();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1", signer: stranger));

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.LoadAsync("credit-risk", "1"));

        Assert.Equal(ModelVerificationFailure.Signature, error.Failure);
    }

    [Fact]
    public async Task Load_SignedManifestCopiedToAnotherVersion_Refused()
    {
        var (store, container) = await NewStoreAsync();
        var package = TestPackages.CreditRisk("credit-risk", "1");
        await store.PublishAsync(package);
        await Overwrite(container, "manifests/credit-risk/2/manifest.sig", Encoding.ASCII.GetBytes(package.Signature));
        await Overwrite(container, "manifests/credit-risk/2/manifest.json", package.ManifestJson.ToArray());

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.LoadAsync("credit-risk", "2"));

        Assert.Equal(ModelVerificationFailure.Manifest, error.Failure);
    }

    [Fact]
    public async Task Load_SignedModelWithExternalData_Refused()
    {
        var (store, _) = await NewStoreAsync();
        var package = TestPackages.PackUnchecked("credit-risk", "1", TestPackages.CreditRiskWithExternalWeights(), SampleModels.GetPolicy(CreditRiskSample.Name));
        await store.PublishAsync(package);

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.LoadAsync("credit-risk", "1"));

        Assert.Equal(ModelVerificationFailure.ExternalData, error.Failure);
    }

    [Fact]
    public async Task Load_SignedPolicyThatDoesNotFitTheModel_RefusedOnPolicy()
    {
        var (store, _) = await NewStoreAsync();
        var policy = """{"schemaVersion":1,"maxBatch":1,"outputs":{"probabilities":{"mode":"topk","k":7}}}"""u8.ToArray();
        await store.PublishAsync(TestPackages.PackUnchecked("credit-risk", "1", TestPackages.CreditRiskModel, policy));

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => store.VerifyAsync("credit-risk", "1", verifyModelDigest: false));

        Assert.Equal(ModelVerificationFailure.Policy, error.Failure);
    }

    [Fact]
    public async Task Load_UnknownVersion_NotFound()
    {
        var (store, _) = await NewStoreAsync();

        await Assert.ThrowsAsync<ModelNotFoundException>(() => store.LoadAsync("credit-risk", "1"));
    }

    [Fact]
    public async Task Publish_RetryAfterStopBetweenSignatureAndManifest_CompletesAsFirstSigned()
    {
        var (store, container) = await NewStoreAsync();
        var first = TestPackages.CreditRisk("credit-risk", "4");
        await store.PublishAsync(first);

        // What a publish that stopped right after writing manifest.sig leaves behind.
        await container.GetBlobClient("manifests/credit-risk/4/manifest.json").DeleteAsync();
        await Assert.ThrowsAsync<ModelNotFoundException>(() => store.LoadAsync("credit-risk", "4"));

        // A retry signs anew (ECDSA signatures differ every time, and so may the creation time) ...
        var retry = ModelPackager.Pack("credit-risk", "4", TestPackages.CreditRiskModel, SampleModels.GetPolicy(CreditRiskSample.Name), TestPackages.Signer, TestPackages.Created.AddMinutes(1));
        Assert.NotEqual(first.Signature, retry.Signature);
        var digest = await store.PublishAsync(retry);

        // ... and completes the version exactly as first signed.
        Assert.Equal(first.ManifestDigest, digest);
        Assert.Equal(first.ManifestDigest, (await store.LoadAsync("credit-risk", "4")).Version.ManifestDigest);
    }

    /// <summary>
    /// Two tries of one publish racing: the other's retry completed this one's manifest between this one's signature and
    /// its manifest write. That is this publish done (it was answered 400 and audited refused); a manifest of other
    /// content there is still a version that exists.
    /// </summary>
    [Fact]
    public async Task Publish_ManifestCompletedByARacingTry_Succeeds_OtherContentStillRefused()
    {
        var (store, container) = await NewStoreAsync();
        var package = TestPackages.CreditRisk("credit-risk", "7");

        // The other try's manifest lands while this one uploads its files (after its check that the version is new).
        Assert.Equal(package.ManifestDigest, await store.PublishAsync(package, Landing(container, "7", package.ManifestJson)));
        Assert.Equal(package.ManifestDigest, (await store.LoadAsync("credit-risk", "7")).Version.ManifestDigest);

        var other = TestPackages.CreditRisk("credit-risk", "8", policy: TestPackages.CreditRiskPolicyWithMaxBatch(2));
        await Assert.ThrowsAsync<ModelVersionExistsException>(() => store.PublishAsync(other, Landing(container, "8", TestPackages.CreditRisk("credit-risk", "8").ManifestJson)));
    }

    // Writes the version's manifest once, at the first progress report of a publish.
    private static SyncProgress Landing(BlobContainerClient container, string version, ReadOnlyMemory<byte> manifest)
    {
        var landed = false;
        return new SyncProgress(_ =>
        {
            if (!landed)
            {
                landed = true;
                container.GetBlobClient(ModelStoreLayout.ManifestPath("credit-risk", version)).Upload(BinaryData.FromBytes(manifest));
            }
        });
    }

    [Fact]
    public async Task Publish_RetrySignedByAnotherTrustedKeyAfterInterruptedPublish_Refused()
    {
        using var other = SigningKeys.CreateP256();
        var container = await azurite.CreateContainerAsync("store");
        var store = new ModelStore(container, TrustedSigners.FromKeys(TestPackages.Signer, other), new ModelStoreOptions(), new FakeLogger<ModelStore>());
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "6"));
        await container.GetBlobClient("manifests/credit-risk/6/manifest.json").DeleteAsync();

        // The same files signed by another key: completing it would store the first signer's manifest while the
        // publisher reports the second one's.
        var retry = ModelPackager.Pack("credit-risk", "6", TestPackages.CreditRiskModel, SampleModels.GetPolicy(CreditRiskSample.Name), other, TestPackages.Created);
        await Assert.ThrowsAsync<ModelVersionExistsException>(() => store.PublishAsync(retry));
        Assert.False(await container.GetBlobClient("manifests/credit-risk/6/manifest.json").ExistsAsync());
    }

    [Fact]
    public async Task Publish_RetryWithOtherContentAfterInterruptedPublish_Refused()
    {
        var (store, container) = await NewStoreAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "5"));
        await container.GetBlobClient("manifests/credit-risk/5/manifest.json").DeleteAsync();

        var other = TestPackages.CreditRisk("credit-risk", "5", policy: TestPackages.CreditRiskPolicyWithMaxBatch(2));
        await Assert.ThrowsAsync<ModelVersionExistsException>(() => store.PublishAsync(other));
        Assert.False(await container.GetBlobClient("manifests/credit-risk/5/manifest.json").ExistsAsync());
    }

    [Fact]
    public async Task ListVersionsAndModels_OnlyCompleteVersions_InVersionOrder()
    {
        var (store, container) = await NewStoreAsync();
        foreach (var version in new[] { "10", "9", "2" })
        {
            await store.PublishAsync(TestPackages.CreditRisk("credit-risk", version));
        }

        await store.PublishAsync(TestPackages.CustomerNotes("customer-notes", "1"));
        await Overwrite(container, "manifests/credit-risk/11/manifest.sig", "incomplete"u8.ToArray());

        Assert.Equal(["2", "9", "10"], await store.ListVersionsAsync("credit-risk"));
    }

    private async Task<(ModelStore Store, BlobContainerClient Container)> NewStoreAsync(ModelStoreOptions? options = null)
    {
        var container = await azurite.CreateContainerAsync("store");
        return (new ModelStore(container, TestPackages.Trusted(), options ?? new ModelStoreOptions(), new FakeLogger<ModelStore>()), container);
    }

    /// <summary>What an attacker with write access to storage (but not the signing key) can do.</summary>
    internal static Task Overwrite(BlobContainerClient container, string blobName, byte[] content) =>
        container.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(content), overwrite: true);

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }
}
