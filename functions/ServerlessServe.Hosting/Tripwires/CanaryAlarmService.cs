using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>
/// Starts the search for canary values in logs and spans once the host has started (the options are valid by then),
/// and raises, one by one, the hits the detectors queued (<see cref="CanaryAlarmQueue"/>). On stop it raises what is
/// still queued, within the host's shutdown time.
/// </summary>
internal sealed partial class CanaryAlarmService(CanaryAlarmQueue queue, CanaryAlarm alarm, ILogger<CanaryAlarmService> logger) : BackgroundService
{
    private IDisposable? _spans;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var tokens = alarm.Canaries.Tokens;
        if (!tokens.IsEmpty)
        {
            queue.Attach(tokens);
            _spans = CanarySpans.Listen(queue, tokens);
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Detach();
        _spans?.Dispose();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested && queue.Reader.TryRead(out var detection))
        {
            await RaiseAsync(detection).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _spans?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await queue.Reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false))
            {
                while (queue.Reader.TryRead(out var detection))
                {
                    await RaiseAsync(detection).ConfigureAwait(false);
                }

                if (queue.TakeDropped() is > 0 and var dropped)
                {
                    Log.AlarmsDropped(logger, dropped);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync raises what is left.
        }
    }

    private async Task RaiseAsync(CanaryAlarmQueue.Detection detection)
    {
        try
        {
            await alarm.RaiseAsync(alarm.Create(detection.Kind, detection.Request, detection.Evidence, detection.Time)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // One event that fails to raise must not stop the ones behind it (nor the host).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AlarmFailed(logger, ex, detection.Kind);
        }
    }
}
