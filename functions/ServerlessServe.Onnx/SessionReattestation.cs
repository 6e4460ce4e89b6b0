using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;

namespace ServerlessServe.Onnx;

/// <summary>
/// Runtime re-attestation in the inference app: every <see cref="ServingControlOptions.ReattestInterval"/>, the bytes each
/// session was created from (and the manifest, signature, policy and profile bytes) are hashed against what was
/// signed; a version that no longer matches stops serving on this instance (<see cref="ModelCatalog.MarkTampered"/>),
/// so the catalog refuses it to new requests, and its session leaves the cache (<see cref="OnnxSessionCache.Evict"/>),
/// so requests that resolved it before, or wait in its batch queue, are refused at their run instead of run on it.
/// </summary>
internal sealed class SessionReattestation(OnnxSessionCache sessions, ModelCatalog catalog, IOptions<ServingControlOptions> options, TimeProvider time) : BackgroundService
{
    /// <summary>Checks every loaded model once; returns how many were checked.</summary>
    public int Reattest()
    {
        var count = 0;
        foreach (var model in sessions.Loaded.ToList())
        {
            count++;
            if (ModelAttestation.Check(model.Version, catalog.Store.TrustedSigners, model.ModelBytes, checkModelBytes: true) is { } reason)
            {
                catalog.MarkTampered(model.Version, reason);
                sessions.Evict(model);
            }
        }

        return count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReattestInterval, time);
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            Reattest();
        }
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
