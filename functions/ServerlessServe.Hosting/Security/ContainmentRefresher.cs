using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Hosting.Signatures;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Security;

/// <summary>
/// Keeps this instance's view of the containment table current: creates the table if missing, reads it at start and
/// then every <see cref="ContainmentOptions.RefreshInterval"/>. A failed read keeps the previous view (logged) and is
/// retried at the next tick; requests wait for the first successful read (see <c>EnforceContainment</c>).
/// </summary>
internal sealed class ContainmentRefresher(ContainmentStore store, ContainmentRegistry registry, IOptions<ContainmentOptions> options, TimeProvider time)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var created = false;
        using var timer = new PeriodicTimer(options.Value.RefreshInterval, time);
        do
        {
            using var refresh = Ticks.Bounded(options.Value.RefreshInterval, time, stoppingToken);
            try
            {
                if (!created)
                {
                    // Until it succeeds, and the table read whatever came of it (see RequestKeyRefresher).
                    try
                    {
                        await store.CreateIfNotExistsAsync(refresh.Token).ConfigureAwait(false);
                        created = true;
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        registry.RefreshFailed(ex);
                    }
                }

                await registry.RefreshAsync(refresh.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                registry.RefreshFailed(ex);
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
