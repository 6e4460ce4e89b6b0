using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Defenses.Extraction;

namespace ServerlessServe.Hosting.Extraction;

/// <summary>
/// Runs the extraction state store's background work for the host's lifetime, under either host (the Functions
/// isolated worker is a generic host too): on start the table is created when missing and the loops start; on stop
/// every changed state is written before the host exits.
/// </summary>
internal sealed class ExtractionStoreService(ExtractionStateStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => store.StopAsync(cancellationToken);
}
