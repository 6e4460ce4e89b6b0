using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.LocalState;

/// <summary>Logs, once at start, that keys come from a local state folder (a development-only configuration).</summary>
internal sealed partial class LocalStateNotice(string directory, ILogger<LocalStateNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        KeysFromLocalState(logger, directory);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1000, Level = LogLevel.Warning, Message = "Keys not configured otherwise are read from the local state folder {Directory}: development only, never in Azure")]
    private static partial void KeysFromLocalState(ILogger logger, string directory);
}
