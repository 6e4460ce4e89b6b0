using System.Net;
using System.Text;
using System.Text.Json;

namespace ServerlessServe.Hosting.Tests.Fixtures;

/// <summary>Submitting a job to the in-process gateway and waiting for it to settle, as a caller polling its status does.</summary>
internal static class JobPolling
{
    /// <summary>Posts <paramref name="body"/> to <paramref name="path"/> and returns the job's id (asserting 202).</summary>
    public static async Task<string> SubmitAsync(HttpClient client, string path, string body, string? receipt = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (receipt is not null)
        {
            request.Headers.TryAddWithoutValidation(Core.Audit.AuditReceipt.HeaderName, receipt);
        }

        using var submitted = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        using var accepted = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync());
        return accepted.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>
    /// Polls <c>jobs/{id}</c> every 20 ms until the job is neither pending nor running (60 s at most), and returns its
    /// status. Told 429 (the caller's limits on the job routes), it waits as <c>Retry-After</c> says, as a client should.
    /// </summary>
    public static async Task<JsonElement> AwaitSettledAsync(HttpClient client, string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var response = await client.GetAsync($"jobs/{id}", timeout.Token);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), timeout.Token);
                continue;
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token));
            if (document.RootElement.GetProperty("status").GetString() is not ("pending" or "running"))
            {
                return document.RootElement.Clone();
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}
