using System.Net;
using System.Net.Http.Headers;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Audit;

/// <summary>
/// Signed receipts end to end over loopback: a caller asks for one, fetches the inclusion proof of its record from the
/// running gateway once a tree head covers it, and the real <c>ssctl receipt verify</c> checks both offline with the
/// checkpoint public key and the record line from storage. Another caller cannot fetch the proof.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ReceiptTests(StackFixture fixture)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}""";

    [StackFact]
    public async Task Receipt_ProofFetchedByOwnCaller_VerifiesOfflineWithSsctl()
    {
        string receipt;
        string requestId;
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = StackFixture.Json(Body) })
        {
            request.Headers.Add("x-audit-receipt", "?1");
            using var response = await fixture.Gateway.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            receipt = response.Headers.GetValues("x-audit-receipt").Single();
            requestId = response.Headers.GetValues("x-request-id").Single();
        }

        // The proof, once a signed tree head covers the record (every 100 records or 10 s): 404 with Retry-After until then.
        byte[] proof;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await fixture.Gateway.GetAsync("audit/proofs/" + requestId);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                proof = await response.Content.ReadAsByteArrayAsync();
                break;
            }

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.True(DateTime.UtcNow < deadline, "no tree head covered the record within 60 s");
            await Task.Delay(500);
        }

        // Another caller of the same gateway gets what an unknown request id gets.
        using (var other = new HttpRequestMessage(HttpMethod.Get, "audit/proofs/" + requestId))
        {
            other.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.MintCallerToken("receipt-someone-else"));
            using var response = await fixture.Gateway.SendAsync(other);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Null(response.Headers.RetryAfter);
        }

        var directory = Directory.CreateTempSubdirectory("receipt-");
        try
        {
            var receiptFile = Path.Combine(directory.FullName, "receipt.jws");
            var proofFile = Path.Combine(directory.FullName, "proof.json");
            var recordFile = Path.Combine(directory.FullName, "record.json");
            await File.WriteAllTextAsync(receiptFile, receipt);
            await File.WriteAllBytesAsync(proofFile, proof);
            await File.WriteAllTextAsync(recordFile, (await fixture.AuditLinesAsync()).Single(l => l.Contains("\"requestId\":\"" + requestId + "\"", StringComparison.Ordinal)));

            var verified = await Ssctl.RunAsync(fixture, "receipt", "verify", "--receipt", receiptFile, "--proof", proofFile, "--record", recordFile, "--state", fixture.State.Directory);
            Assert.True(verified.ExitCode == 0, verified.Output);
            Assert.Contains("receipt OK", verified.Output, StringComparison.Ordinal);
            Assert.Contains("under a signed head", verified.Output, StringComparison.Ordinal);

            // A receipt altered in one character, or a record line that says something else, fails.
            var altered = receipt[..^2] + (receipt[^2] == 'A' ? 'B' : 'A') + receipt[^1];
            var tampered = await Ssctl.RunAsync(fixture, "receipt", "verify", "--receipt", altered, "--proof", proofFile, "--state", fixture.State.Directory);
            Assert.True(tampered.ExitCode == 1, tampered.Output);
            var line = await File.ReadAllTextAsync(recordFile);
            await File.WriteAllTextAsync(recordFile, line.Replace("\"outcome\":\"released\"", "\"outcome\":\"invalid\"", StringComparison.Ordinal));
            var wrongRecord = await Ssctl.RunAsync(fixture, "receipt", "verify", "--receipt", receiptFile, "--record", recordFile, "--state", fixture.State.Directory);
            Assert.True(wrongRecord.ExitCode == 1, wrongRecord.Output);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
