using System.Net;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Hosting.Tests.Fixtures;

/// <summary>Fetching a receipted record's inclusion proof from the in-process gateway, as a caller polling for it does.</summary>
internal static class ProofPolling
{
    /// <summary>
    /// <c>GET audit/proofs/{requestId}</c> until it answers the proof: a pending one is a 404 that says when to retry
    /// (asserted), until a signed tree head covers the record (at most 60 s here).
    /// </summary>
    public static async Task<AuditInclusionProof> AwaitProofAsync(HttpClient client, string requestId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await client.GetAsync("audit/proofs/" + requestId);
            var text = await response.Content.ReadAsByteArrayAsync();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.True(AuditInclusionProof.TryParse(text, out var proof));
                return proof!;
            }

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.True(response.Headers.RetryAfter?.Delta is { } delay && delay > TimeSpan.Zero, "a pending proof says when to retry");
            Assert.True(DateTime.UtcNow < deadline, "no tree head covered the record within 60 s");
            await Task.Delay(250);
        }
    }
}
