using System.Text;
using System.Text.Json;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// The orchestration's logic, fast: the real gateway in-process on the in-memory durable backend (the inference app
/// behind its test server, audit on Azurite). Each item ends released or refused on its own, with the sync path's
/// outputs and one audit record.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class InMemoryJobTests(InProcessStack stack)
{
    [Fact]
    public async Task Job_ItemsReleasedOrRefusedAlone_OutputsAsSync_OneRecordEach()
    {
        using var client = stack.Client("in-memory-jobs");
        string[] items =
        [
            """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""",
            """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,987654321]}]}""",
            """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.7,0.85,5,3]}]}""",
        ];

        var id = await JobPolling.SubmitAsync(client, "v2/models/credit-risk/jobs", "{\"items\":[" + string.Join(',', items) + "]}");
        var status = await JobPolling.AwaitSettledAsync(client, id);

        Assert.Equal("completed", status.GetProperty("status").GetString());
        var results = status.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], results.Select(r => r.GetProperty("index").GetInt32()));
        Assert.Equal(["released", "invalid", "released"], results.Select(r => r.GetProperty("outcome").GetString()));
        Assert.False(results[1].TryGetProperty("response", out _));
        foreach (var i in new[] { 0, 2 })
        {
            using var sync = await client.PostAsync("v2/models/credit-risk/infer", Json(items[i]));
            using var expected = JsonDocument.Parse(await sync.Content.ReadAsStringAsync());
            Assert.Equal(expected.RootElement.GetProperty("outputs").GetRawText(), results[i].GetProperty("response").GetProperty("outputs").GetRawText());
        }

        var records = (await stack.AuditLinesAsync())
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.GetProperty("requestId").GetString()!.StartsWith(id + ".", StringComparison.Ordinal))
            .ToList();
        Assert.Equal([$"{id}.0", $"{id}.1", $"{id}.2"], records.Select(r => r.GetProperty("requestId").GetString()).Order(StringComparer.Ordinal));
        Assert.All(records, r => Assert.Equal("job", r.GetProperty("operation").GetString()));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
