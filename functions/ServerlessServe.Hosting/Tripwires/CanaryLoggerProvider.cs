using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>
/// A logger provider that writes nothing: it reads every log line the host's filters let through (the formatted
/// message, its string values, its exception messages) for canary values and queues a <c>canary-telemetry</c> hit for
/// each line that holds one. Its own hits are never logged with a value, so it cannot feed itself.
/// </summary>
[ProviderAlias("Canaries")]
internal sealed class CanaryLoggerProvider(CanaryAlarmQueue queue) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new CanaryLogger(categoryName, queue);

    public void Dispose()
    {
    }
}
