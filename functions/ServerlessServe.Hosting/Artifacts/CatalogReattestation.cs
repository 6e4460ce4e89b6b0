using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Signatures;

namespace ServerlessServe.Hosting.Artifacts;

/// <summary>
/// Runtime re-attestation of the catalog: every <see cref="ServingControlOptions.ReattestInterval"/>, the manifest,
/// signature, policy and profile bytes of every version held verified are checked against what was signed; a version
/// that no longer matches stops serving on this instance (<see cref="ModelCatalog.Reattest"/>). In an app that raises
/// security events (the gateway), each such version also raises a <see cref="SecurityEventKinds.ModelTampered"/> event:
/// audited and emitted as telemetry, with no containment (the stored artifact is unchanged; this instance's memory is
/// what changed).
/// </summary>
internal sealed class CatalogReattestation : BackgroundService
{
    private readonly ModelCatalog _catalog;
    private readonly IOptions<ServingControlOptions> _options;
    private readonly TimeProvider _time;
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<(VerifiedModelVersion Version, string Reason)> _tampered = new();

    public CatalogReattestation(ModelCatalog catalog, IOptions<ServingControlOptions> options, TimeProvider time, IServiceProvider services, ILogger<CatalogReattestation> logger)
    {
        _catalog = catalog;
        _options = options;
        _time = time;
        _services = services;
        _logger = logger;
        _catalog.Tampered += Enqueue;
    }

    public override void Dispose()
    {
        _catalog.Tampered -= Enqueue;
        base.Dispose();
    }

    /// <summary>Raises one event per version newly found tampered; one that cannot be written is tried again next tick.</summary>
    internal async Task RaiseAsync(ISecurityEvents events, CancellationToken cancellationToken)
    {
        var failed = new List<(VerifiedModelVersion, string)>();
        while (_tampered.TryDequeue(out var tampered))
        {
            var securityEvent = new SecurityEvent
            {
                Id = SecurityEvent.NewId(),
                Time = _time.GetUtcNow(),
                Kind = SecurityEventKinds.ModelTampered,
                Caller = CallerPseudonymizer.Anonymous,
                Model = tampered.Version.Manifest.Name,
                ModelVersion = tampered.Version.Manifest.Version,
                Evidence = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["manifestDigest"] = tampered.Version.ManifestDigest,
                    ["reason"] = tampered.Reason,
                },
                Action = ContainmentAction.None,
            };
            try
            {
                await events.RaiseAsync(securityEvent, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
            {
                Log.TamperEventNotWritten(_logger, tampered.Version.Manifest.Name, tampered.Version.Manifest.Version, ex);
                failed.Add(tampered);
            }
        }

        failed.ForEach(_tampered.Enqueue);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var events = _services.GetService<ISecurityEvents>();
        using var timer = new PeriodicTimer(_options.Value.ReattestInterval, _time);
        while (await Ticks.WaitAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            _catalog.Reattest();
            if (events is not null)
            {
                await RaiseAsync(events, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private void Enqueue(VerifiedModelVersion version, string reason) => _tampered.Enqueue((version, reason));
}
