using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Hosting.Signatures;

namespace ServerlessServe.Hosting.Artifacts;

/// <summary>
/// Keeps this instance's <see cref="ServingControl"/> current: reads the lifecycle documents and the revocation list at
/// start and then every <see cref="ServingControlOptions.RefreshInterval"/>. A failed read keeps the last good view
/// (logged) and is retried at the next tick; requests wait for the first successful read.
/// </summary>
internal sealed class ServingControlRefresher(ServingControl control, IOptions<ServingControlOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        do
        {
            using var refresh = Ticks.Bounded(options.Value.RefreshInterval, time, stoppingToken);
            try
            {
                await control.RefreshAsync(refresh.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                control.RefreshFailed(ex);
            }
        }
        while (await Ticks.WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }
}
