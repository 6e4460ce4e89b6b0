using System.Net;
using System.Text;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Tests.Artifacts;

/// <summary>
/// Model names and versions come from callers: the catalog's memory must not grow with the number of distinct unknown
/// ones. Runs against an in-process fake of the blob endpoint (an empty container), so that thousands of lookups are fast.
/// </summary>
public sealed class ModelCatalogBoundsTests
{
    private readonly ManualTimeProvider _time = new(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task Resolve_ManyDistinctUnknownNames_CacheStaysEmpty()
    {
        var store = new EmptyStoreHandler();
        var catalog = NewCatalog(store);

        for (var i = 0; i < 20_000; i++)
        {
            var error = await Assert.ThrowsAsync<ProtocolException>(() => catalog.ResolveAsync($"unknown-{i}", null, default));
            Assert.Equal(404, error.StatusCode);
        }

        Assert.Equal(20_000, store.Lists);
        Assert.Equal(0, catalog.CachedListingCount);
        Assert.Equal(0, catalog.CachedVersionCount);
    }

    [Fact]
    public async Task Resolve_ManyDistinctUnknownVersions_CacheStaysEmpty()
    {
        var store = new EmptyStoreHandler();
        var catalog = NewCatalog(store);

        for (var i = 0; i < 2_000; i++)
        {
            var error = await Assert.ThrowsAsync<ProtocolException>(() => catalog.ResolveAsync($"unknown-{i % 10}", $"v{i}", default));
            Assert.Equal(404, error.StatusCode);
        }

        Assert.Equal(0, catalog.CachedListingCount);
        Assert.Equal(0, catalog.CachedVersionCount);
    }

    [Fact]
    public async Task Resolve_CallersGiveUpBeforeTheStoreAnswers_NothingLeftBehind()
    {
        var store = new EmptyStoreHandler { Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var catalog = NewCatalog(store);
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
        var store = new EmptyStoreHandler();
        var catalog = NewCatalog(store);

        Assert.Empty(await catalog.ListVersionsAsync("missing", default));
        Assert.Empty(await catalog.ListVersionsAsync("missing", default));

        // One list call per request for an unknown name: the price of not caching caller-chosen names.
        Assert.Equal(2, store.Lists);
    }

    private ModelCatalog NewCatalog(EmptyStoreHandler handler)
    {
        var options = new BlobClientOptions { Transport = new HttpClientTransport(new HttpClient(handler)) };
        options.Retry.MaxRetries = 0;
        var container = new BlobServiceClient(new Uri("http://127.0.0.1:10000/devstoreaccount1"), options).GetBlobContainerClient("models");
        return new ModelCatalog(new ModelStore(container, TestPackages.Trusted()), Options.Create(new ModelCatalogOptions()), _time);
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

    /// <summary>The blob endpoint of an empty container: every listing is empty, every blob is missing.</summary>
    private sealed class EmptyStoreHandler : HttpMessageHandler
    {
        private int _lists;
        private int _requests;

        public TaskCompletionSource? Gate { get; init; }

        public int Lists => Volatile.Read(ref _lists);

        public int Requests => Volatile.Read(ref _requests);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            if (Gate is not null)
            {
                await Gate.Task;
            }

            var requestId = request.Headers.TryGetValues("x-ms-client-request-id", out var ids) ? ids.First() : Guid.NewGuid().ToString();
            HttpResponseMessage response;
            if (request.RequestUri!.Query.Contains("comp=list", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _lists);
                const string xml = """<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/devstoreaccount1" ContainerName="models"><Blobs /><NextMarker /></EnumerationResults>""";
                response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(xml, Encoding.UTF8, "application/xml") };
            }
            else
            {
                response = new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new ByteArrayContent([]) };
                response.Headers.Add("x-ms-error-code", "BlobNotFound");
            }

            response.Headers.Add("x-ms-request-id", requestId);
            response.Headers.Add("x-ms-client-request-id", requestId);
            response.Headers.Add("x-ms-version", "2025-01-05");
            return response;
        }
    }
}
