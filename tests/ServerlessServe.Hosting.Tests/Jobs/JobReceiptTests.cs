using System.Net;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Audit;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// Receipts on jobs: submitted with <c>x-audit-receipt: ?1</c>, each item's result carries the signed receipt of its
/// own audit record, released or refused; without the header none does, and a header not understood is refused.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class JobReceiptTests(InProcessStack stack)
{
    private const string Good = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";
    private const string Bad = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,987654321]}]}""";

    [Fact]
    public async Task Job_ReceiptAsked_EachItemCarriesTheReceiptOfItsRecord()
    {
        using var client = stack.Client("job-receipts");

        var (status, id) = await RunJobAsync(client, "?1");

        var results = status.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["released", "invalid"], results.Select(r => r.GetProperty("outcome").GetString()));
        var lines = await stack.AuditLinesAsync();
        foreach (var result in results)
        {
            Assert.True(AuditReceipt.TryParse(result.GetProperty("receipt").GetString(), out var receipt));
            Assert.True(receipt!.Verify([stack.AuditKey]));
            Assert.Equal($"{id}.{result.GetProperty("index").GetInt32()}", receipt.RequestId);
            Assert.Equal(result.GetProperty("outcome").GetString(), receipt.Outcome);
            var line = lines.Single(l => l.Contains("\"requestId\":\"" + receipt.RequestId + "\"", StringComparison.Ordinal));
            Assert.True(AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out _));
            Assert.True(receipt.Matches(record!));
        }
    }

    [Fact]
    public async Task Job_NoReceiptAsked_NoReceipts()
    {
        using var client = stack.Client("job-receipts");

        var (status, _) = await RunJobAsync(client, null);

        Assert.All(status.GetProperty("results").EnumerateArray(), r => Assert.False(r.TryGetProperty("receipt", out _)));
    }

    [Fact]
    public async Task Job_ReceiptHeaderNotUnderstood_400()
    {
        using var client = stack.Client("job-receipts");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/jobs") { Content = new StringContent(Good, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(AuditReceipt.HeaderName, "maybe");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static async Task<(JsonElement Status, string Id)> RunJobAsync(HttpClient client, string? receipt)
    {
        var id = await JobPolling.SubmitAsync(client, "v2/models/credit-risk/jobs", "{\"items\":[" + Good + "," + Bad + "]}", receipt);
        var status = await JobPolling.AwaitSettledAsync(client, id);
        Assert.Equal("completed", status.GetProperty("status").GetString());
        return (status, id);
    }
}
