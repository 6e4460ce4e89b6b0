using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Hosting.Signatures;

namespace ServerlessServe.Hosting.Artifacts;

/// <summary>
/// Runtime re-attestation of the catalog: every <see cref="ServingControlOptions.ReattestInterval"/>, the manifest,
/// signature, policy and profile bytes of every version held verified are checked against what was signed; a version
/// that no longer matches stops serving on this instance (<see cref="ModelCatalog.Reattest"/>).
/// </summary>
internal sealed class CatalogReattestation(ModelCatalog catalog, IOptions<ServingControlOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReattestInterval, time);
        while (await Ticks.WaitAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            catalog.Reattest();
        }
    }
}
