using System.Net;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Audit;

/// <summary>Concurrent callers are all served and audited, and the gateway commits their records in groups.</summary>
[Collection(StackCollection.Name)]
public sealed class ConcurrentCallersTests(StackFixture fixture)
{
    private const int Requests = 64;
    private const int Concurrency = 16;

    [StackFact]
    public async Task Infer_ConcurrentCallers_AllServedAuditedAndGrouped()
    {
        var before = await ChainStateAsync();
        var next = -1;
        var statuses = new HttpStatusCode[Requests];
        var ids = new string?[Requests];
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Requests)
            {
                using var response = await fixture.Gateway.PostAsync(
                    "v2/models/credit-risk/infer",
                    StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[5,6,7,8]}]}"""));
                statuses[i] = response.StatusCode;
                ids[i] = response.Headers.TryGetValues("x-request-id", out var values) ? values.Single() : null;
            }
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(ids, id => Assert.False(string.IsNullOrEmpty(id)));
        var after = await ChainStateAsync();
        var appends = after.Blocks - before.Blocks;

        // Other records (a background notice, a late record of an earlier test) may land in the same window, so count
        // exactly the records of these requests: each once.
        var mine = ids.ToHashSet(StringComparer.Ordinal);
        var counted = after.RequestIds.Where(mine.Contains).ToList();
        Assert.Equal(Requests, counted.Count);
        Assert.Equal(Requests, counted.Distinct(StringComparer.Ordinal).Count());
        var records = after.Records - before.Records;
        Assert.True(appends < records, $"{records} records took {appends} appends: group commit should batch concurrent records");

        var verify = await Ssctl.RunAsync(fixture, "audit", "verify", "--connection-string", fixture.Stack.Azurite.ConnectionString, "--state", fixture.State.Directory);
        Assert.True(verify.ExitCode == 0, verify.Output);
    }

    private async Task<(long Records, long Blocks, List<string> RequestIds)> ChainStateAsync()
    {
        var container = fixture.Blobs.GetBlobContainerClient("audit");
        long records = 0, blocks = 0;
        var requestIds = new List<string>();
        if (!await container.ExistsAsync())
        {
            return (0, 0, requestIds);
        }

        await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, "chains/", default))
        {
            var blob = container.GetAppendBlobClient(item.Name);
            var properties = (await blob.GetPropertiesAsync()).Value;
            blocks += properties.BlobCommittedBlockCount;
            var text = (await blob.DownloadContentAsync()).Value.Content.ToString();
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                records++;
                using var record = JsonDocument.Parse(line);
                requestIds.Add(record.RootElement.GetProperty("requestId").GetString() ?? string.Empty);
            }
        }

        return (records, blocks, requestIds);
    }
}
