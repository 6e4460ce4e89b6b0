using System.Text;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Artifacts;

[Collection(AzuriteCollection.Name)]
public sealed class ModelCatalogTests(AzuriteFixture azurite)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task ResolveLatest_ReturnsNewestVersion()
    {
        var (catalog, store, _) = await NewCatalogAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "9"));
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "10"));

        var resolved = await catalog.ResolveAsync("credit-risk", null, default);

        Assert.Equal("10", resolved.Manifest.Version);
    }

    [Fact]
    public async Task ResolveLatest_NewestTampered_PreviousGoodVersionKeepsServing()
    {
        var (catalog, store, container) = await NewCatalogAsync();
        var good = TestPackages.CreditRisk("credit-risk", "1");
        var newer = TestPackages.CreditRisk("credit-risk", "2", policy: TestPackages.CreditRiskPolicyWithMaxBatch(8));
        await store.PublishAsync(good);
        await store.PublishAsync(newer);
        var originalPolicy = newer.Files.Single(f => f.Name == "policy.json");
        await ModelStoreTests.Overwrite(container, $"sha256/{originalPolicy.Pin.Sha256}", Encoding.UTF8.GetBytes("""{"schemaVersion":1,"maxBatch":4096}"""));

        var resolved = await catalog.ResolveAsync("credit-risk", null, default);

        Assert.Equal("1", resolved.Manifest.Version);
        Assert.Equal(good.ManifestDigest, resolved.ManifestDigest);
        Assert.True(catalog.IsMarkedUnavailable("credit-risk", "2"));
        var explicitError = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("credit-risk", "2", default));
        Assert.Equal(RefusalKind.Unavailable, explicitError.Kind);
        Assert.Equal("model version unavailable", explicitError.Message);

        // Repaired in storage: skipped until the retry delay has passed, then served.
        await ModelStoreTests.Overwrite(container, $"sha256/{originalPolicy.Pin.Sha256}", originalPolicy.Content.ToArray());
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("2", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
    }

    [Fact]
    public async Task ResolveLatest_EveryVersionFails_503()
    {
        var (catalog, store, container) = await NewCatalogAsync();
        var package = TestPackages.CreditRisk("credit-risk", "1");
        await store.PublishAsync(package);
        await ModelStoreTests.Overwrite(container, "manifests/credit-risk/1/manifest.sig", Encoding.ASCII.GetBytes(Convert.ToBase64String(new byte[64])));

        var error = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("credit-risk", null, default));

        Assert.Equal(RefusalKind.Unavailable, error.Kind);
    }

    [Fact]
    public async Task ResolveLatest_NewVersionSeenAfterListingTtl()
    {
        var (catalog, store, _) = await NewCatalogAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);

        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "2"));
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
        _time.Advance(TimeSpan.FromSeconds(6));

        // Past the TTL the listing held answers at once while a newer one is read on the side; then the new version.
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
        Assert.Equal("2", await EventuallyAsync(async () => (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version, "2"));
    }

    [Fact]
    public async Task ResolveLatest_StoreFailsPastTtl_ListingHeldAnswersUntilMaxStale()
    {
        var paused = new PauseSwitch();
        var created = await azurite.CreateContainerAsync("catalog");
        var container = azurite.GetContainer(created.Name, options =>
        {
            options.Retry.MaxRetries = 0;
            options.AddPolicy(paused, Azure.Core.HttpPipelinePosition.PerCall);
        });
        var store = new ModelStore(container, TestPackages.Trusted(), new ModelStoreOptions(), new FakeLogger<ModelStore>());
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));
        var log = new FakeLogger<ModelCatalog>();
        var catalog = new ModelCatalog(store, Options.Create(new ModelCatalogOptions { ListingMaxStale = TimeSpan.FromMinutes(1) }), _time, log);
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);

        // The store stops answering: within the bound, "latest" is answered from what is held, and the failed read on the side is logged.
        paused.On = true;
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
        Assert.True(await EventuallyAsync(() => Task.FromResult(log.Collector.GetSnapshot().Any(r => r.Id.Id == 3009)), true));
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);

        // Past it, requests wait for the store again: unavailable while it is down, served once it is back.
        _time.Advance(TimeSpan.FromSeconds(31));
        var error = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("credit-risk", null, default));
        Assert.Equal("model store unavailable", error.Message);
        paused.On = false;
        Assert.Equal("1", (await catalog.ResolveAsync("credit-risk", null, default)).Manifest.Version);
    }

    [Theory]
    [InlineData("missing", null, RefusalKind.NotFound)]
    [InlineData("credit-risk", "7", RefusalKind.NotFound)]
    [InlineData("../credit-risk", null, RefusalKind.Invalid)]
    [InlineData("credit-risk", "..", RefusalKind.Invalid)]
    public async Task Resolve_UnknownOrInvalid_RightStatus(string name, string? version, RefusalKind status)
    {
        var (catalog, store, _) = await NewCatalogAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));

        var error = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync(name, version, default));

        Assert.Equal(status, error.Kind);
        Assert.DoesNotContain("..", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("7")]
    [InlineData("..")]
    public async Task UnknownModel_TheRefusalResolveGivesAnUnpublishedName(string? version)
    {
        var (catalog, store, _) = await NewCatalogAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));

        var resolved = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("payroll-model", version, default));
        Refusal expected;
        try
        {
            expected = ModelCatalog.UnknownModel(version);
        }
        catch (RefusedException ex)
        {
            expected = ex.Refusal;
        }

        Assert.Equal(expected, resolved.Refusal);
    }

    [Fact]
    public async Task Resolve_StoreUnreachable_503()
    {
        var options = new BlobClientOptions();
        options.Retry.MaxRetries = 0;
        var port = Loopback.ClosedPort();
        var container = new BlobServiceClient(new Uri($"http://127.0.0.1:{port}/devstoreaccount1"), options).GetBlobContainerClient("models");
        var catalog = new ModelCatalog(new ModelStore(container, TestPackages.Trusted(), new ModelStoreOptions(), new FakeLogger<ModelStore>()), Options.Create(new ModelCatalogOptions()), _time, new FakeLogger<ModelCatalog>());

        var error = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync("credit-risk", null, default));

        Assert.Equal(RefusalKind.Unavailable, error.Kind);
        Assert.Equal("model store unavailable", error.Message);
    }

    [Fact]
    public async Task Resolve_ConcurrentCallers_ShareOneVerifiedInstance()
    {
        var (catalog, store, _) = await NewCatalogAsync();
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => catalog.ResolveAsync("credit-risk", "1", default))));

        Assert.All(results, r => Assert.Same(results[0], r));
        Assert.Same(results[0], await catalog.ResolveAsync("credit-risk", null, default));
    }

    private async Task<(ModelCatalog Catalog, ModelStore Store, BlobContainerClient Container)> NewCatalogAsync()
    {
        var container = await azurite.CreateContainerAsync("catalog");
        var store = new ModelStore(container, TestPackages.Trusted(), new ModelStoreOptions(), new FakeLogger<ModelStore>());
        return (new ModelCatalog(store, Options.Create(new ModelCatalogOptions()), _time, new FakeLogger<ModelCatalog>()), store, container);
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, T expected)
    {
        var value = await probe();
        for (var i = 0; i < 100 && !EqualityComparer<T>.Default.Equals(value, expected); i++)
        {
            await Task.Delay(50);
            value = await probe();
        }

        return value;
    }
}
