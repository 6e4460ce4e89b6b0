using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Hosting.Audit;

/// <summary>
/// Runs the audit sink's group-commit loop for the host's lifetime: started with the host, and on stop every queued
/// record is committed and a final checkpoint written before the host exits.
/// </summary>
internal sealed class AuditWriterService(BlobAuditSink sink) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        sink.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => sink.StopAsync(cancellationToken);
}
