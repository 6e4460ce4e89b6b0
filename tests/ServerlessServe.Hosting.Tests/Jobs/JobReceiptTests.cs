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
    public async Task Job_ReceiptAsked_EachItemsProofFound_ByItsOwnCallerOnly()
    {
        // A job item's id is {jobId}.{index}: its place is in the receipt index, which refused the dot until 2026-12-07,
        // so every job item's proof answered 404.
        using var client = stack.Client("job-proofs");

        var (status, _) = await RunJobAsync(client, "?1");

        using var other = stack.Client("job-proofs-someone-else");
        foreach (var result in status.GetProperty("results").EnumerateArray())
        {
            Assert.True(AuditReceipt.TryParse(result.GetProperty("receipt").GetString(), out var receipt));
            var proof = await ProofPolling.AwaitProofAsync(client, receipt!.RequestId);
            Assert.True(proof.Verify([stack.AuditKey], out var error), error);
            Assert.Equal(receipt.LeafHash, proof.LeafHash);
            using var refused = await other.GetAsync("audit/proofs/" + receipt.RequestId);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }
    }

    [Theory]
    [InlineData("3fa9c2d1e0b84f6a9d7c5b3a1e2f4d6c.0", true)]
    [InlineData("3fa9c2d1e0b84f6a9d7c5b3a1e2f4d6c.199", true)]
    [InlineData("3fa9c2d1e0b84f6a9d7c5b3a1e2f4d6c", true)]
    [InlineData("a-b_c.1.2", true)]
    [InlineData("..", false)]
    [InlineData("a..b", false)]
    [InlineData(".a", false)]
    [InlineData("a.", false)]
    [InlineData("a/.b", false)]
    [InlineData("a%2Fb", false)]
    [InlineData("", false)]
    public void ReceiptIndex_NamesJobItemIds_NeverADotSegment(string requestId, bool valid) =>
        Assert.Equal(valid, AuditReceiptIndex.IsValidRequestId(requestId));

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
