using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// A caller probing model names (<see cref="LimitOptions.MissesPerSecond"/>, defaults 10 a second after a burst of 100)
/// through the gateway's HTTP edge: each unknown name costs a store lookup until the caller's misses are spent, then the
/// caller gets 429 with <c>Retry-After</c> before any lookup, audited on infer; another caller is unaffected.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class MissLimitTests(InProcessStack stack)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";
    private const int Burst = 100;
    private const double PerSecond = 10;

    [Fact]
    public async Task UnknownNames_404UntilTheBurstIsSpent_Then429WithRetryAfter_LookupsBoundedByTheRate()
    {
        var prober = "name-prober-" + Guid.NewGuid().ToString("N")[..8];
        using var client = stack.Client(prober);

        var notFound = 0;
        var tooMany = 0;
        var notFoundBeforeFirst429 = -1;
        string? retryAfter = null;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 4 * Burst; i++)
        {
            using var response = await client.GetAsync($"v2/models/probe-{i}");
            switch (response.StatusCode)
            {
                case HttpStatusCode.NotFound:
                    notFound++;
                    break;
                case HttpStatusCode.TooManyRequests:
                    if (tooMany++ == 0)
                    {
                        notFoundBeforeFirst429 = notFound;
                        retryAfter = response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(CultureInfo.InvariantCulture);
                        Assert.Equal("too many requests", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
                    }

                    break;
                default:
                    Assert.Fail($"request {i}: {(int)response.StatusCode}");
                    break;
            }
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        Assert.True(tooMany > 0, $"{notFound} unknown names answered 404 in {elapsed:F1} s, none refused");
        Assert.True(notFoundBeforeFirst429 >= Burst, $"refused after {notFoundBeforeFirst429} misses, before the burst of {Burst}");
        Assert.True(notFound <= Burst + (elapsed * PerSecond) + 1, $"{notFound} lookups in {elapsed:F1} s: more than the burst and the rate allow");
        Assert.True(double.Parse(retryAfter!, CultureInfo.InvariantCulture) >= 1);

        // Another caller has misses and models of its own.
        using var steady = stack.Client("name-steady-" + Guid.NewGuid().ToString("N")[..8]);
        using var served = await steady.GetAsync("v2/models/credit-risk");
        using var missing = await steady.GetAsync("v2/models/probe-0");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Infer_OutOfMisses_RefusedBeforeTheModelIsLookedUp_Audited()
    {
        var prober = "infer-prober-" + Guid.NewGuid().ToString("N")[..8];
        using var client = stack.Client(prober);

        string? refusedId = null;
        for (var i = 0; i < 4 * Burst && refusedId is null; i++)
        {
            // Unknown names and a model the caller may not use spend the same allowance.
            var model = i % 2 == 0 ? $"infer-probe-{i}" : InProcessStack.RestrictedModel;
            using var response = await client.PostAsync($"v2/models/{model}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests, $"request {i}: {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(i >= Burst, $"refused after {i} misses");
                refusedId = response.Headers.GetValues("x-request-id").Single();
            }
        }

        Assert.NotNull(refusedId);
        var record = (await stack.AuditLinesAsync())
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Single(r => r.GetProperty("requestId").GetString() == refusedId);
        Assert.Equal("rate_limited", record.GetProperty("outcome").GetString());
        Assert.Equal(stack.Pseudonym(prober), record.GetProperty("caller").GetString());
        var stages = record.GetProperty("stages").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal("refused:rate_limited", stages["misses"]);
        Assert.DoesNotContain("resolve", stages.Keys);
        Assert.DoesNotContain("honey-model", stages.Keys);
    }

    [Fact]
    public async Task UnknownNamesEightAtOnce_LookupsAndRecordsStillBoundedByTheAllowance()
    {
        // Eight requests at a time, each an infer on an unknown name: each holds one of the caller's misses from the
        // misses stage until it is charged (after its audit record), so they cannot all pass while one miss is left.
        var prober = "parallel-prober-" + Guid.NewGuid().ToString("N")[..8];
        using var client = stack.Client(prober);
        var notFound = 0;
        var tooMany = 0;
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= 3 * Burst)
            {
                using var response = await client.PostAsync($"v2/models/parallel-probe-{next}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
                Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode}");
                Interlocked.Increment(ref response.StatusCode == HttpStatusCode.NotFound ? ref notFound : ref tooMany);
            }
        }));

        var elapsed = clock.Elapsed.TotalSeconds;
        Assert.True(tooMany > 0, $"{notFound} unknown names answered 404 in {elapsed:F1} s, none refused");
        Assert.True(notFound <= Burst + (elapsed * PerSecond) + 1, $"{notFound} lookups in {elapsed:F1} s at eight at once: more than the burst and the rate allow");
    }
}
