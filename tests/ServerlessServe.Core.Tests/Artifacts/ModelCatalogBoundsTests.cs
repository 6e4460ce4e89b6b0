using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Artifacts;

/// <summary>
/// Model names and versions come from callers: the catalog's memory must not grow with the number of distinct unknown
/// ones. Runs against a real, empty Azurite container; a pass-through handler only counts (and, for one test, holds
/// back) the real requests.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ModelCatalogBoundsTests(AzuriteFixture azurite)
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Resolve_ManyDistinctUnknownNames_CacheStaysEmpty()
    {
        var store = new CountingHandler();
        var catalog = await NewCatalogAsync(store);

        for (var i = 0; i < 1_000; i++)
        {
            var error = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync($"unknown-{i}", null, default));
            Assert.Equal(RefusalKind.NotFound, error.Kind);
        }

        Assert.Equal(1_000, store.Lists);
        Assert.Equal(0, catalog.CachedListingCount);
        Assert.Equal(0, catalog.CachedVersionCount);
    }

    [Fact]
    public async Task Resolve_ManyDistinctUnknownVersions_CacheStaysEmpty()
    {
        var store = new CountingHandler();
        var catalog = await NewCatalogAsync(store);

        for (var i = 0; i < 300; i++)
        {
            var error = await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync($"unknown-{i % 10}", $"v{i}", default));
            Assert.Equal(RefusalKind.NotFound, error.Kind);
        }

        Assert.Equal(0, catalog.CachedListingCount);
        Assert.Equal(0, catalog.CachedVersionCount);
    }

    [Fact]
    public async Task Resolve_CallersGiveUpBeforeTheStoreAnswers_NothingLeftBehind()
    {
        var store = new CountingHandler { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var catalog = await NewCatalogAsync(store);
        using var cancel = new CancellationTokenSource();

        var pending = Enumerable.Range(0, 200)
            .Select(i => i % 2 == 0 ? catalog.ResolveAsync($"gone-{i}", null, cancel.Token) : catalog.ResolveAsync($"gone-{i}", "1", cancel.Token))
            .ToArray();
        await WaitUntil(() => store.Requests == 200);
        Assert.Equal(200, catalog.CachedListingCount + catalog.CachedVersionCount);
        await cancel.CancelAsync();
        foreach (var task in pending)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
        }

        // The store answers after every caller has left: the entries must still go.
        store.Gate.SetResult();
        await WaitUntil(() => catalog.CachedListingCount + catalog.CachedVersionCount == 0);
    }

    [Fact]
    public async Task ListVersions_UnknownName_AskedAgainEachTime()
    {
        var store = new CountingHandler();
        var catalog = await NewCatalogAsync(store);

        Assert.Empty(await catalog.ListVersionsAsync("missing", default));
        Assert.Empty(await catalog.ListVersionsAsync("missing", default));

        // One list call per request for an unknown name: the price of not caching caller-chosen names.
        Assert.Equal(2, store.Lists);
    }

    private async Task<ModelCatalog> NewCatalogAsync(CountingHandler handler)
    {
        var name = (await azurite.CreateContainerAsync("bounds")).Name;
        var container = azurite.GetContainer(name, o =>
        {
            o.Transport = new HttpClientTransport(new HttpClient(handler));
            o.Retry.MaxRetries = 0;
        });
        return new ModelCatalog(new ModelStore(container, TestPackages.Trusted(), new ModelStoreOptions(), new FakeLogger<ModelStore>()), Options.Create(new ModelCatalogOptions()), _time, new FakeLogger<ModelCatalog>());
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 30 s");
            await Task.Delay(10);
        }
    }

    /// <summary>Passes every request to the real Azurite, counting it; with a <see cref="Gate"/>, holds it back first.</summary>
    private sealed class CountingHandler : DelegatingHandler
    {
        private int _lists;
        private int _requests;

        public CountingHandler()
            : base(new SocketsHttpHandler())
        {
        }

        public TaskCompletionSource? Gate { get; init; }

        public int Lists => Volatile.Read(ref _lists);

        public int Requests => Volatile.Read(ref _requests);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            if (request.RequestUri!.Query.Contains("comp=list", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _lists);
            }

            if (Gate is not null)
            {
                await Gate.Task;
            }

            // The caller may have given up meanwhile; the request still reaches the store, as a slow answer would.
            return await base.SendAsync(request, CancellationToken.None);
        }
    }
}
