using System.Net;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Audit;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// Signed receipts at the gateway's edge: asked for with <c>x-audit-receipt: ?1</c>, returned in the same header, tied to
/// the committed record, and provable through <c>GET /api/audit/proofs/{requestId}</c> by their own caller only.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class ReceiptEdgeTests(InProcessStack stack)
{
    private const string CreditRisk = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Fact]
    public async Task Infer_ReceiptAsked_SignedReceiptOfTheCommittedRecord()
    {
        using var client = stack.Client("receipt-tests");

        var (response, receipt) = await InferAsync(client, CreditRisk, "?1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(receipt);
        Assert.True(receipt.Verify([stack.AuditKey]));
        Assert.Equal(response.Headers.GetValues("x-request-id").Single(), receipt.RequestId);
        Assert.Equal(AuditEvent.Released, receipt.Outcome);
        Assert.Equal("credit-risk", receipt.Model);
        Assert.Equal("1", receipt.ModelVersion);
        Assert.NotNull(receipt.InputSha256);
        Assert.NotNull(receipt.OutputSha256);
        Assert.True(receipt.Matches(await RecordAsync(receipt.RequestId)));
        response.Dispose();
    }

    [Fact]
    public async Task Infer_NoReceiptAsked_NoReceiptHeader()
    {
        using var client = stack.Client("receipt-tests");

        var (response, receipt) = await InferAsync(client, CreditRisk, null);
        using var _ = response;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(receipt);
        Assert.False(response.Headers.Contains(AuditReceipt.HeaderName));
    }

    [Fact]
    public async Task Infer_ReceiptHeaderNotUnderstood_400JsonErrorAndNoReceipt()
    {
        using var client = stack.Client("receipt-tests");

        var (response, receipt) = await InferAsync(client, CreditRisk, "please");
        using var _ = response;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("x-audit-receipt", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Null(receipt);
    }

    [Fact]
    public async Task Infer_RefusedWithReceiptAsked_ReceiptStatesTheRefusal()
    {
        using var client = stack.Client("receipt-tests");

        var (response, receipt) = await InferAsync(client, """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,1e9]}]}""", "?1");
        using var _ = response;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(receipt);
        Assert.True(receipt.Verify([stack.AuditKey]));
        Assert.Equal("invalid", receipt.Outcome);
        Assert.Null(receipt.OutputSha256);
        Assert.True(receipt.Matches(await RecordAsync(receipt.RequestId)));
    }

    [Fact]
    public async Task Proof_OwnCallerOnly_VerifiesAndMatchesTheReceipt()
    {
        using var client = stack.Client("receipt-owner");
        var (response, receipt) = await InferAsync(client, CreditRisk, "?1");
        response.Dispose();
        Assert.NotNull(receipt);

        // Until a signed tree head covers the record: 404 with Retry-After; then the proof (heads: every 100 records or 10 s).
        var proof = await ProofPolling.AwaitProofAsync(client, receipt.RequestId);
        Assert.True(proof.Verify([stack.AuditKey], out var error), error);
        Assert.True(receipt.Matches(proof));

        // Another caller, no caller, an unknown or unreceipted request id, a hostile id: never the proof.
        using var other = stack.Client("receipt-someone-else");
        await AssertNotFoundAsync(other, "audit/proofs/" + receipt.RequestId);
        using var anonymous = stack.Client(subject: null);
        using (var refused = await anonymous.GetAsync("audit/proofs/" + receipt.RequestId))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await AssertNotFoundAsync(client, "audit/proofs/" + Guid.NewGuid().ToString("N"));
        await AssertNotFoundAsync(client, "audit/proofs/" + receipt.RequestId[..8] + new string('0', 24));
        await AssertNotFoundAsync(client, "audit/proofs/..%2Fchains%2Fx");

        // A request of the same caller made without a receipt is in the log too: its proof is there for the asking.
        var (plain, _) = await InferAsync(client, CreditRisk, null);
        var plainId = plain.Headers.GetValues("x-request-id").Single();
        plain.Dispose();
        var plainProof = await ProofPolling.AwaitProofAsync(client, plainId);
        Assert.True(plainProof.Verify([stack.AuditKey], out var plainError), plainError);
        await AssertNotFoundAsync(other, "audit/proofs/" + plainId);
    }

    [Fact]
    public async Task Proof_MadeUpIdsFast_RateLimitedPerCaller_AnotherCallerStillAnswered()
    {
        // Made-up ids with a real writer's tag: each costs a look into that writer's chain. Past the route's burst, 429.
        using var client = stack.Client("proof-flood-" + Guid.NewGuid().ToString("N")[..6]);
        var (served, _) = await InferAsync(client, CreditRisk, null);
        var tag = served.Headers.GetValues("x-request-id").Single()[..8];
        served.Dispose();

        using (var first = await client.GetAsync("audit/proofs/" + tag + Guid.NewGuid().ToString("N")[..24]))
        {
            Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        }

        // Twice the burst, sent at once: however slow this machine is, they arrive faster than the allowance refills
        // (one after another, on a loaded machine, they did not always).
        var responses = await Task.WhenAll(Enumerable.Range(0, 2 * Hosting.Audit.AuditProofEndpoints.Limits.Burst!.Value)
            .Select(_ => client.GetAsync("audit/proofs/" + tag + Guid.NewGuid().ToString("N")[..24])));
        try
        {
            Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests, r.StatusCode.ToString()));
            var limited = responses.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
            Assert.NotNull(limited);
            Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        // Another caller's proof requests take their own allowance.
        using var other = stack.Client("proof-other-" + Guid.NewGuid().ToString("N")[..6]);
        await AssertNotFoundAsync(other, "audit/proofs/" + tag + Guid.NewGuid().ToString("N")[..24]);
    }

    /// <summary>
    /// Every proof answer names its own request in <c>x-request-id</c>, served or refused, never the record's it is
    /// about (none before 2026-12-08); a honey subject's refusal names the security event it raised.
    /// </summary>
    [Fact]
    public async Task Proof_ServedOrRefused_EachAnswerNamesItsOwnRequest()
    {
        using var client = stack.Client("receipt-request-ids");
        var (plain, _) = await InferAsync(client, CreditRisk, null);
        var recordId = plain.Headers.GetValues("x-request-id").Single();
        plain.Dispose();
        var ids = new List<string>();

        // Pending (404 with Retry-After) until a signed tree head covers the record, then the proof: each answer its own id.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HttpStatusCode status;
        do
        {
            Assert.True(DateTime.UtcNow < deadline, "no tree head covered the record within 60 s");
            await Task.Delay(250);
            using var response = await client.GetAsync("audit/proofs/" + recordId);
            status = response.StatusCode;
            ids.Add(Assert.Single(response.Headers.TryGetValues("x-request-id", out var values) ? values : []));
        }
        while (status == HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, status);

        // Refused: an unknown id, another caller, no token.
        using var other = stack.Client("receipt-request-ids-other");
        using var anonymous = stack.Client(subject: null);
        foreach (var (caller, expected) in new[] { (client, HttpStatusCode.NotFound), (other, HttpStatusCode.NotFound), (anonymous, HttpStatusCode.Unauthorized) })
        {
            using var response = await caller.GetAsync("audit/proofs/" + (caller == client ? Guid.NewGuid().ToString("N") : recordId));
            Assert.Equal(expected, response.StatusCode);
            ids.Add(Assert.Single(response.Headers.TryGetValues("x-request-id", out var values) ? values : []));
        }

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(ids.Count, ids.Append(recordId).Distinct(StringComparer.Ordinal).Count() - 1);

        using var honey = stack.Client(Local.LocalCanaries.HoneySubject);
        using var honeyRefused = await honey.GetAsync("audit/proofs/" + recordId);
        Assert.Equal(HttpStatusCode.Forbidden, honeyRefused.StatusCode);
        var honeyId = honeyRefused.Headers.GetValues("x-request-id").Single();
        Assert.Single(stack.SecurityEvents.OfKind(Core.Security.SecurityEventKinds.HoneyCaller), e => e.RequestId == honeyId);
    }

    /// <summary>
    /// Storage failing while a proof is looked for: a transient failure (503s, the storage client's retries given up on
    /// them) is 503 with Retry-After, as the job routes answer it (a 500 before 2026-12-08), logged (5030) under the
    /// request id the caller got; a permanent fault (403, a missing role assignment) stays a 500. Once storage answers,
    /// the same request is answered as usual.
    /// </summary>
    [Fact]
    public async Task Proof_StorageFails_Transient503WithRetryAfter_Permanent500()
    {
        using var client = stack.Client("receipt-storage-faults");
        var asked = Guid.NewGuid().ToString("N");

        // A request of its own first, so that the audit container exists when this test runs alone (the faults below
        // are injected on reads of it).
        (await InferAsync(client, CreditRisk, null)).Response.Dispose();
        try
        {
            // The proof's first read: the receipt index's blob of the id asked about.
            stack.GatewayStorageFaults.FailReadsOf(stack.Audit.Name, AuditReceiptIndex.Prefix + asked, HttpStatusCode.ServiceUnavailable);
            using (var unavailable = await client.GetAsync("audit/proofs/" + asked))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(1), unavailable.Headers.RetryAfter?.Delta);
                Assert.Equal("storage unavailable; try again later", JsonDocument.Parse(await unavailable.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
                var requestId = unavailable.Headers.GetValues("x-request-id").Single();
                Assert.Contains(stack.GatewayLogs.GetSnapshot(), r => r.Id.Id == 5030 && r.Message.Contains(requestId, StringComparison.Ordinal));
            }

            stack.GatewayStorageFaults.FailReadsOf(stack.Audit.Name, AuditReceiptIndex.Prefix + asked, HttpStatusCode.Forbidden);
            using (var failed = await client.GetAsync("audit/proofs/" + asked))
            {
                Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
                Assert.Null(failed.Headers.RetryAfter);
                var failedId = failed.Headers.GetValues("x-request-id").Single();
                Assert.Contains(stack.GatewayLogs.GetSnapshot(), r => r.Id.Id == 5031 && r.Message.Contains(failedId, StringComparison.Ordinal));
            }

            // The audit container not there (nothing audited yet, its listing 404): no such receipt, not a 500.
            stack.GatewayStorageFaults.FailReadsOf(stack.Audit.Name, string.Empty, HttpStatusCode.NotFound);
            await AssertNotFoundAsync(client, "audit/proofs/" + asked);
            Assert.Contains(stack.GatewayLogs.GetSnapshot(), r => r.Id.Id == 5032);
        }
        finally
        {
            stack.GatewayStorageFaults.Clear();
        }

        await AssertNotFoundAsync(client, "audit/proofs/" + asked);
    }

    private static async Task<(HttpResponseMessage Response, AuditReceipt? Receipt)> InferAsync(HttpClient client, string body, string? receiptHeader)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (receiptHeader is not null)
        {
            request.Headers.TryAddWithoutValidation(AuditReceipt.HeaderName, receiptHeader);
        }

        var response = await client.SendAsync(request);
        AuditReceipt? receipt = null;
        if (response.Headers.TryGetValues(AuditReceipt.HeaderName, out var values))
        {
            Assert.True(AuditReceipt.TryParse(values.Single(), out receipt));
        }

        return (response, receipt);
    }

    private static async Task AssertNotFoundAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").ValueKind);
    }

    private async Task<AuditRecord> RecordAsync(string requestId)
    {
        var line = (await stack.AuditLinesAsync()).Single(l => l.Contains("\"requestId\":\"" + requestId + "\"", StringComparison.Ordinal));
        Assert.True(AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var record, out var error), error);
        return record!;
    }
}
