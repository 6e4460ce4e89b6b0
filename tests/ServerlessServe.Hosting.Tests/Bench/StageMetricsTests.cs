using System.Diagnostics.Metrics;
using ServerlessServe.Cli.Commands;

namespace ServerlessServe.Hosting.Tests.Bench;

/// <summary>
/// The bench's stage p50s, read over the runtime's diagnostics channel from a live process (this one): what was recorded
/// before a cell began (its warm-up) stays out of the cell, though the runtime publishes it a second late.
/// </summary>
public sealed class StageMetricsTests
{
    [Fact]
    public async Task SettleAsync_KeepsWhatWasRecordedBeforeItOutOfTheCell()
    {
        using var metrics = StageMetrics.TryStart(Environment.ProcessId, out var reason);
        Assert.True(metrics is not null, reason);

        // The instrument the gateway records into (same meter and name), under a stage no other test uses.
        using var meter = new Meter(Core.Pipeline.PipelineTelemetry.SourceName);
        var duration = meter.CreateHistogram<double>("serverlessserve.stage.duration", unit: "ms");
        var stage = "settle-" + Guid.NewGuid().ToString("N")[..8];
        for (var wait = 0; !duration.Enabled && wait < 200; wait++)
        {
            await Task.Delay(50);
        }

        Assert.True(duration.Enabled, "the diagnostics session never listened to the meter");

        // A warm-up: many slow records, published a second after they were made.
        for (var i = 0; i < 200; i++)
        {
            duration.Record(1000, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("verdict", "pass"));
        }

        await metrics.SettleAsync(CancellationToken.None);
        Assert.True(metrics.Collections >= 2, "the runtime published no collection while the bench waited");

        // The cell: few fast records. Its p50 is theirs alone.
        for (var i = 0; i < 20; i++)
        {
            duration.Record(1, new KeyValuePair<string, object?>("stage", stage), new KeyValuePair<string, object?>("verdict", "pass"));
        }

        IReadOnlyDictionary<string, double> p50 = new Dictionary<string, double>();
        for (var wait = 0; !p50.ContainsKey(stage) && wait < 100; wait++)
        {
            await Task.Delay(100);
            p50 = metrics.StageP50();
        }

        Assert.True(p50.ContainsKey(stage), "the cell's records were never published");
        // Wait one more collection: a warm-up record published late would come in now.
        await Task.Delay(2500);
        Assert.Equal(1, metrics.StageP50()[stage], 0.5);
    }
}
