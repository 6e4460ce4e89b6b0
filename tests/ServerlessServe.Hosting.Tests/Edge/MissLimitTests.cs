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

        // Eight at a time until the first refusal (and the requests then in flight) are answered: one after another, a
        // machine busy enough to take over 100 ms a request sends them no faster than the misses come back (10 a second),
        // and none is ever refused. A refusal can come only once the burst is spent, so the burst's misses are all 404.
        // Refusals in quick succession are audited one by one only at first, then counted in a summary record, so the
        // refused wave's ids are all kept and the record of one of them looked for.
        var refusedIds = new HashSet<string>(StringComparer.Ordinal);
        var notFound = 0;
        var sent = 0;
        while (refusedIds.Count == 0 && sent < 4 * Burst)
        {
            var wave = Enumerable.Range(sent, 8).Select(async i =>
            {
                // Unknown names and a model the caller may not use spend the same allowance.
                var model = i % 2 == 0 ? $"infer-probe-{i}" : InProcessStack.RestrictedModel;
                using var response = await client.PostAsync($"v2/models/{model}/infer", new StringContent(Body, Encoding.UTF8, "application/json"));
                return (response.StatusCode, Id: response.Headers.GetValues("x-request-id").Single());
            }).ToList();
            sent += wave.Count;
            foreach (var (status, id) in await Task.WhenAll(wave))
            {
                Assert.True(status is HttpStatusCode.NotFound or HttpStatusCode.TooManyRequests, $"{(int)status}");
                if (status == HttpStatusCode.NotFound)
                {
                    notFound++;
                }
                else
                {
                    refusedIds.Add(id);
                }
            }
        }

        Assert.True(notFound >= Burst, $"refused after {notFound} misses");
        Assert.NotEmpty(refusedIds);
        var record = (await stack.AuditLinesAsync())
            .Select(l => JsonDocument.Parse(l).RootElement)
            .First(r => r.TryGetProperty("requestId", out var id) && refusedIds.Contains(id.GetString()!));
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
        // 500 of them: for none to be refused they would have to take 40 s, not the 20 s that 300 needed on a machine
        // shared with every other test project (it happened once).
        var prober = "parallel-prober-" + Guid.NewGuid().ToString("N")[..8];
        using var client = stack.Client(prober);
        var notFound = 0;
        var tooMany = 0;
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= 5 * Burst)
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
