using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.LocalState;

/// <summary>Logs, once at start, that keys come from a local state folder (a development-only configuration).</summary>
internal sealed class LocalStateNotice(string directory, ILogger<LocalStateNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Log.KeysFromLocalState(logger, directory);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
