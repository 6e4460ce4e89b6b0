using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Extraction;

/// <summary>
/// The extract stage as the gateway runs it: a watched model's requests are observed per caller, the finding is on the
/// audit record, and the store (started with the host, its table created) writes the caller's state to the table
/// under the model and the caller's pseudonym; the screen stage reports the rows it flags, so a caller whose requests
/// it refuses is contained.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class ExtractionEdgeTests(InProcessStack stack)
{
    private const string TwoRows = """{"inputs":[{"name":"features","shape":[2,4],"datatype":"FP32","data":[0.35,0.4,1,9,20,30,2,4]}]}""";

    // One saturated 8×8 image: far outside the digits' training profile.
    private static readonly string Saturated =
        $$"""{"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":[{{string.Join(',', Enumerable.Repeat(16, 64))}}]}]}""";

    [Fact]
    public async Task Infer_WatchedModel_ObservedAndRecorded_StateWrittenUnderModelAndPseudonym()
    {
        const string subject = "extraction-edge-caller";
        using var client = stack.Client(subject);
        var records = new List<JsonElement>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.PostAsync($"v2/models/{InProcessStack.WatchedModel}/infer", new StringContent(TwoRows, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            records.Add(await RecordAsync(response));
        }

        Assert.All(records, r => Assert.Equal("pass", r.GetProperty("stages").GetProperty("extract").GetString()));
        var finding = records[^1].GetProperty("defenses").GetProperty("extraction");
        Assert.False(finding.GetProperty("flagged").GetBoolean());
        Assert.Equal("shadow", finding.GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Null, finding.GetProperty("score").ValueKind);
        Assert.Equal(0.9, finding.GetProperty("threshold").GetDouble());

        var store = stack.GatewayServices.GetRequiredService<ExtractionStateStore>();
        Assert.Equal(0, await store.FlushAsync(CancellationToken.None));
        var pseudonym = stack.GatewayServices.GetRequiredService<CallerPseudonymizer>().Pseudonymize(subject);
        var rows = new List<TableEntity>();
        await foreach (var row in new TableServiceClient(stack.StorageConnectionString).GetTableClient("extraction").QueryAsync<TableEntity>(e => e.PartitionKey == InProcessStack.WatchedModel))
        {
            if (row.RowKey.StartsWith(pseudonym + "~", StringComparison.Ordinal))
            {
                rows.Add(row);
            }
        }

        var entity = Assert.Single(rows);
        Assert.Equal(6L, entity.GetInt64("Queries"));
        Assert.Equal(0, entity.GetInt32("Signals"));
    }

    /// <summary>
    /// The digits policy enforces the screen and extraction: each saturated request is refused by the screen, and the
    /// 50th, refused too, raises the out-of-distribution signal (50 of the caller's 50 screened rows flagged): one
    /// event, whose block applies on this instance at once.
    /// </summary>
    [Fact]
    public async Task Infer_ScreenedModel_CallerWhoseRowsTheScreenRefuses_OneEvent_ThenBlocked()
    {
        const string subject = "screen-edge-caller";
        using var client = stack.Client(subject);
        var answers = new List<(HttpStatusCode Status, string RequestId)>();
        for (var i = 0; i < 52; i++)
        {
            using var response = await client.PostAsync($"v2/models/{InProcessStack.ScreenedModel}/infer", new StringContent(Saturated, Encoding.UTF8, "application/json"));
            answers.Add((response.StatusCode, Assert.Single(response.Headers.GetValues("x-request-id"))));
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.BadRequest, 50), HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], answers.Select(a => a.Status));
        var alarm = Assert.Single(stack.SecurityEvents.OfKind(SecurityEventKinds.Extraction), e => e.Caller == stack.Pseudonym(subject));
        Assert.Equal((InProcessStack.ScreenedModel, answers[49].RequestId), (alarm.Model, alarm.RequestId));
        Assert.Equal(("outOfDistribution", "1", "50"), (alarm.Evidence["signals"], alarm.Evidence["oodShare"], alarm.Evidence["screened"]));
        Assert.Equal(ContainmentKind.Block, alarm.Action.Kind);
    }

    private async Task<JsonElement> RecordAsync(HttpResponseMessage response)
    {
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        var line = Assert.Single(await stack.AuditLinesAsync(), l => l.Contains(requestId, StringComparison.Ordinal));
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
