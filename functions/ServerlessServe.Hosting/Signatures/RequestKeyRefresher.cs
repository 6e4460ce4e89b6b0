using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Hosting.Signatures;

/// <summary>
/// Keeps this instance's view of the request-signing keys current: creates the key and nonce tables if missing, reads
/// the key table at start and then every <see cref="SignatureOptions.KeyRefreshInterval"/>. A failed read keeps the
/// previous view (logged) and is retried at the next tick; a key the view lacks is read on demand by the request.
/// </summary>
internal sealed class RequestKeyRefresher(RequestKeyStore store, NonceStore nonces, RequestKeyRegistry registry, IOptions<SignatureOptions> options, TimeProvider time)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var created = false;
        using var timer = new PeriodicTimer(options.Value.KeyRefreshInterval, time);
        do
        {
            using var refresh = Ticks.Bounded(options.Value.KeyRefreshInterval, time, stoppingToken);
            try
            {
                if (!created)
                {
                    // Until it succeeds, and the table read whatever came of it: in Azure the deployment declares the
                    // tables and a role scoped to them may not be allowed to create one, which must not keep the keys
                    // from being read (an unread view goes stale and refuses every signed request).
                    try
                    {
                        await store.CreateIfNotExistsAsync(refresh.Token).ConfigureAwait(false);
                        await nonces.CreateIfNotExistsAsync(refresh.Token).ConfigureAwait(false);
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
        while (await Ticks.WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }
}
