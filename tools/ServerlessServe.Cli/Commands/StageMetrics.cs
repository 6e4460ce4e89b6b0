using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// The gateway's own stage timings (the <c>serverlessserve.stage.duration</c> histogram of
/// <c>PipelineTelemetry</c>), read the way <c>dotnet-counters</c> reads metrics: over the runtime's diagnostics channel
/// of a local process (EventPipe, <c>System.Diagnostics.Metrics</c>), which only the same user on the same machine can
/// open. Nothing is exposed to callers and no setting is switched on. Every second the runtime publishes each stage's
/// quantiles over that second; a cell's p50 per stage is the count-weighted median of those per-second p50s.
/// </summary>
internal sealed class StageMetrics : IDisposable
{
    private const string MetricsProvider = "System.Diagnostics.Metrics";
    private const string Instrument = "serverlessserve.stage.duration";

    private const string RequestInstrument = "serverlessserve.request.duration";

    /// <summary>
    /// The key under which <see cref="StageP50"/> reports the gateway's whole request (<c>serverlessserve.request.duration</c>:
    /// from the endpoint's start to the response ready, after the audit commit). What a caller sees above it is the
    /// HTTP edge: the client, the connection, Kestrel and the host.
    /// </summary>
    public const string WholeRequest = "(request)";

    // The runtime's own HTTP metrics (seconds): the process's calls out, by port, and the requests Kestrel served.
    private const string ClientInstrument = "http.client.request.duration";
    private const string ServerInstrument = "http.server.request.duration";

    private readonly DiagnosticsClient _client;
    private readonly EventPipeSession _session;
    private readonly EventPipeEventSource _source;
    private readonly Task _processing;
    private readonly Lock _gate = new();
    private List<(string Stage, double P50, long Count)> _samples = [];
    private int _collections;

    private StageMetrics(int processId)
    {
        _client = new DiagnosticsClient(processId);
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SessionId"] = Guid.NewGuid().ToString(),
            ["Metrics"] = $"{Core.Pipeline.PipelineTelemetry.SourceName}\\{Instrument},{Core.Pipeline.PipelineTelemetry.SourceName}\\{RequestInstrument},System.Net.Http\\{ClientInstrument},Microsoft.AspNetCore.Hosting\\{ServerInstrument}",
            ["RefreshInterval"] = "1",
            ["MaxTimeSeries"] = "1000",
            ["MaxHistograms"] = "100",
        };
        _session = _client.StartEventPipeSession([new EventPipeProvider(MetricsProvider, EventLevel.Informational, 0x2, arguments)], requestRundown: false);
        _source = new EventPipeEventSource(_session.EventStream);
        _source.Dynamic.All += OnEvent;
        // Process() blocks until the session ends: a thread of its own, never one of the pool's. On two cores the pool
        // starts with two threads, and two readers holding them starved the bench's own requests for 0.4-0.8 s at a
        // time until the pool added threads (docs/performance.md, "The load generator starved itself").
        _processing = Task.Factory.StartNew(_source.Process, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>
    /// The process id of the gateway's worker: the .NET process of this user that runs ServerlessServe.Gateway and listens
    /// on <paramref name="port"/> (its command line names the port when it runs standalone); else the only such process.
    /// </summary>
    public static int? FindGateway(int port) => FindApp("ServerlessServe.Gateway", port);

    /// <summary>As <see cref="FindGateway"/>, for the app whose assembly is <paramref name="assembly"/>.</summary>
    public static int? FindApp(string assembly, int port)
    {
        var apps = new List<(int Id, string CommandLine)>();
        foreach (var published in DiagnosticsClient.GetPublishedProcesses().Distinct())
        {
            try
            {
                // A socket left behind by a process that was killed names an id that may now be a thread of a live
                // process, whose /proc entry shows that process's command line: only a process's own id counts.
                var id = published.ToString(CultureInfo.InvariantCulture);
                if (!File.ReadLines($"/proc/{id}/status").Any(line => line.StartsWith("Tgid:", StringComparison.Ordinal) && line[5..].Trim() == id))
                {
                    continue;
                }

                var commandLine = File.ReadAllText($"/proc/{id}/cmdline").Replace('\0', ' ');
                if (commandLine.Contains(assembly, StringComparison.Ordinal))
                {
                    apps.Add((published, commandLine));
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        var onPort = apps.Where(g => g.CommandLine.Contains($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", StringComparison.Ordinal)).ToList();
        return onPort.Count == 1 ? onPort[0].Id : apps.Count == 1 ? apps[0].Id : null;
    }

    /// <summary>Listens to <paramref name="processId"/>, or returns null (with the reason) where that is not possible.</summary>
    public static StageMetrics? TryStart(int processId, out string? reason)
    {
        try
        {
            reason = null;
            return new StageMetrics(processId);
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or UnsupportedCommandException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            reason = ex.Message;
            return null;
        }
    }

    /// <summary>Forgets what was gathered so far (the next cell starts clean).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _samples = [];
        }
    }

    /// <summary>
    /// Waits until everything recorded before the call has been published, then forgets it: the runtime publishes each
    /// second's quantiles a second late, so a <see cref="Reset"/> straight after a warm-up let that warm-up's last
    /// second into the cell's p50s. Two collections ending (<c>CollectionStop</c>) after the call mean one that began
    /// after it, whose interval holds all of the warm-up. At most <paramref name="limit"/> (default 5 s) where the
    /// runtime publishes no such events.
    /// </summary>
    public async Task SettleAsync(CancellationToken cancellationToken, TimeSpan? limit = null)
    {
        var start = Volatile.Read(ref _collections);
        var until = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(5));
        while (Volatile.Read(ref _collections) < start + 2 && DateTime.UtcNow < until)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }

        Reset();
    }

    /// <summary>How many collections the runtime has finished publishing since the session began.</summary>
    internal int Collections => Volatile.Read(ref _collections);

    /// <summary>Each stage's p50 over what was gathered since <see cref="Reset"/>, in milliseconds.</summary>
    public IReadOnlyDictionary<string, double> StageP50()
    {
        List<(string Stage, double P50, long Count)> samples;
        lock (_gate)
        {
            samples = [.. _samples];
        }

        return samples.GroupBy(s => s.Stage, StringComparer.Ordinal).ToDictionary(g => g.Key, g => WeightedMedian(g.Select(s => (s.P50, s.Count))), StringComparer.Ordinal);
    }

    /// <summary>
    /// How many calls each HTTP client destination took per whole request since <see cref="Reset"/>: the counts of its
    /// histogram over the count of <c>(request)</c>. Background calls (storage polling) are in it too. Null before any
    /// <c>(request)</c> was published (a short cell on a loaded machine may end before it is).
    /// </summary>
    public IReadOnlyDictionary<string, double>? CallsPerRequest()
    {
        List<(string Stage, double P50, long Count)> samples;
        lock (_gate)
        {
            samples = [.. _samples];
        }

        var requests = samples.Where(s => s.Stage == WholeRequest).Sum(s => s.Count);
        return requests == 0
            ? null
            : samples.Where(s => s.Stage.StartsWith("(http client ", StringComparison.Ordinal))
                .GroupBy(s => s.Stage, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Sum(s => s.Count) / (double)requests, StringComparer.Ordinal);
    }

    /// <summary>The median of values each counted <c>Weight</c> times.</summary>
    private static double WeightedMedian(IEnumerable<(double Value, long Weight)> samples)
    {
        var sorted = samples.Where(s => s.Weight > 0).OrderBy(s => s.Value).ToList();
        var total = sorted.Sum(s => s.Weight);
        var half = total / 2.0;
        long seen = 0;
        foreach (var (value, weight) in sorted)
        {
            seen += weight;
            if (seen >= half)
            {
                return value;
            }
        }

        return 0;
    }

    public void Dispose()
    {
        try
        {
            _session.Stop();
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or IOException or TimeoutException)
        {
        }

        _processing.Wait(TimeSpan.FromSeconds(5));
        _source.Dispose();
        _session.Dispose();
    }

    private void OnEvent(TraceEvent e)
    {
        // EventSource gives a method named ...Stop the Stop opcode: TraceEvent names it "Collection/Stop".
        if (e.ProviderName == MetricsProvider && e.EventName is "CollectionStop" or "Collection/Stop")
        {
            Interlocked.Increment(ref _collections);
            return;
        }

        if (e.ProviderName != MetricsProvider || e.EventName != "HistogramValuePublished"
            || e.PayloadByName("instrumentName") is not (Instrument or RequestInstrument or ClientInstrument or ServerInstrument))
        {
            return;
        }

        var instrument = (string)e.PayloadByName("instrumentName");
        var tags = e.PayloadByName("tags") as string;
        var stage = instrument switch
        {
            RequestInstrument => WholeRequest,
            ClientInstrument => $"(http client {Tag(tags, "server.address")}:{Tag(tags, "server.port")})",
            ServerInstrument => "(http server)",
            _ => Tag(tags, "stage"),
        };
        var p50 = Quantile(e.PayloadByName("quantiles") as string, "0.5") * (instrument is ClientInstrument or ServerInstrument ? 1000 : 1);
        // Runtimes before .NET 8 publish no count: each second's p50 then weighs the same.
        var count = e.PayloadByName("count") is { } c ? Convert.ToInt64(c, CultureInfo.InvariantCulture) : 1;
        if (stage is not null && p50 is { } value && count > 0)
        {
            lock (_gate)
            {
                _samples.Add((stage, value, count));
            }
        }
    }

    /// <summary>A tag's value in "key=value,key=value".</summary>
    private static string? Tag(string? tags, string key) =>
        tags?.Split(',').Select(t => t.Split('=', 2)).FirstOrDefault(p => p.Length == 2 && p[0] == key)?[1];

    /// <summary>A quantile's value in "0.5=1.2;0.95=3.4;0.99=5.6".</summary>
    private static double? Quantile(string? quantiles, string which)
    {
        var pair = quantiles?.Split(';').Select(q => q.Split('=', 2)).FirstOrDefault(p => p.Length == 2 && p[0] == which);
        return pair is not null && double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
    }
}
