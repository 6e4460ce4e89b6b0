using System.Net;
using System.Text;
using System.Text.Json;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>Per-caller limits through the gateway's HTTP edge: a flood gets 429 with Retry-After, audited; another caller is unaffected.</summary>
[Collection(InProcessStackCollection.Name)]
public sealed class LimitEdgeTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    [Fact]
    public async Task Flood_429WithRetryAfterAndAudited_AnotherCallerStillServed()
    {
        var flooder = "flooder-" + Guid.NewGuid().ToString("N")[..8];
        using var a = stack.Client(flooder);
        using var b = stack.Client("steady-" + Guid.NewGuid().ToString("N")[..8]);

        var statuses = new List<HttpStatusCode>();
        string? retryAfter = null;
        string? refusedId = null;
        for (var i = 0; i < 10; i++)
        {
            using var response = await a.PostAsync($"v2/models/{InProcessStack.LimitedModel}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                retryAfter ??= response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                refusedId ??= response.Headers.GetValues("x-request-id").Single();
            }
        }

        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(7, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.NotNull(retryAfter);
        Assert.True(double.Parse(retryAfter, System.Globalization.CultureInfo.InvariantCulture) >= 1);

        for (var i = 0; i < 3; i++)
        {
            using var steady = await b.PostAsync($"v2/models/{InProcessStack.LimitedModel}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, steady.StatusCode);
        }

        var record = (await stack.AuditLinesAsync())
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Single(r => r.GetProperty("requestId").GetString() == refusedId);
        Assert.Equal("rate_limited", record.GetProperty("outcome").GetString());
        Assert.Equal("refused:rate_limited", record.GetProperty("stages").GetProperty("limit").GetString());
        Assert.Equal(stack.Pseudonym(flooder), record.GetProperty("caller").GetString());
    }
}
