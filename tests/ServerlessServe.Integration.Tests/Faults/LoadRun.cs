using System.Diagnostics;
using System.Net;

namespace ServerlessServe.Integration.Tests.Faults;

/// <summary>
/// Closed-loop load on a loopback gateway for a fault test: a few workers send credit-risk requests back to back until
/// told to stop, and every answer is kept (status, server request id, time taken). A request that got no HTTP answer
/// (the gateway was killed) has status 0.
/// </summary>
public sealed class LoadRun
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    private readonly List<Answer> _answers = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _workers;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private LoadRun(Uri gateway, string token, int workers)
    {
        _workers = Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(gateway, token))));
    }

    /// <summary>
    /// One answer: HTTP status (0 for none), the server's request id (null without an answer), when the request was sent
    /// and answered (on the run's clock, <see cref="Now"/>), and the phase it was sent in.
    /// </summary>
    public sealed record Answer(HttpStatusCode Status, string? RequestId, TimeSpan Sent, TimeSpan Answered, string Phase)
    {
        public TimeSpan Elapsed => Answered - Sent;
    }

    /// <summary>The run's clock.</summary>
    public TimeSpan Now => _clock.Elapsed;

    /// <summary>The phase name recorded with each answer from now on.</summary>
    public string Phase { get; set; } = "before";

    public static LoadRun Start(Uri gateway, string token, int workers = 4) => new(gateway, token, workers);

    /// <summary>Sends requests until one is served (a cold app loads its model on the first one), at most a minute.</summary>
    public static async Task WarmUpAsync(Uri gateway, string token)
    {
        using var client = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (true)
        {
            using var response = await client.PostAsync("v2/models/credit-risk/infer", Fixtures.StackFixture.Json(Body), limit.Token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return;
            }

            await Task.Delay(200, limit.Token);
        }
    }

    /// <summary>Waits until an answer matches <paramref name="predicate"/> (false after <paramref name="limit"/>).</summary>
    public async Task<bool> WaitForAsync(Func<Answer, bool> predicate, TimeSpan limit)
    {
        var until = _clock.Elapsed + limit;
        while (_clock.Elapsed < until)
        {
            lock (_answers)
            {
                if (_answers.Any(predicate))
                {
                    return true;
                }
            }

            await Task.Delay(100);
        }

        return false;
    }

    /// <summary>Stops the workers (each finishes its request in flight) and returns every answer.</summary>
    public async Task<IReadOnlyList<Answer>> StopAsync()
    {
        await _stop.CancelAsync();
        await _workers;
        _stop.Dispose();
        lock (_answers)
        {
            return [.. _answers];
        }
    }

    private async Task WorkAsync(Uri gateway, string token)
    {
        using var client = new HttpClient { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(120) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        while (!_stop.IsCancellationRequested)
        {
            var phase = Phase;
            var sent = _clock.Elapsed;
            Answer answer;
            try
            {
                using var response = await client.PostAsync("v2/models/credit-risk/infer", Fixtures.StackFixture.Json(Body));
                await response.Content.ReadAsByteArrayAsync();
                answer = new Answer(response.StatusCode, response.Headers.TryGetValues("x-request-id", out var ids) ? ids.First() : null, sent, _clock.Elapsed, phase);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    // As a caller would (and as after no answer below): a refusal comes back in a millisecond or two, and
                    // sent again at once, four workers sent about 1,300 in one phase of a test, all of it CPU that the
                    // run's other tests share, for nothing a test checks.
                    await Task.Delay(50);
                }
            }
            catch (HttpRequestException)
            {
                answer = new Answer(0, null, sent, _clock.Elapsed, phase);
                await Task.Delay(50);
            }

            lock (_answers)
            {
                _answers.Add(answer);
            }
        }
    }
}
