using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>One category's logger of <see cref="CanaryLoggerProvider"/>.</summary>
internal sealed class CanaryLogger(string category, CanaryAlarmQueue queue) : ILogger
{
    // A formatter or a ToString that logs while this logger reads a line must not be read again.
    [ThreadStatic]
    private static bool t_reading;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && queue.Tokens is not null;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (logLevel == LogLevel.None || queue.Tokens is not { } tokens || t_reading)
        {
            return;
        }

        t_reading = true;
        try
        {
            HashSet<string>? ids = null;
            Hits.Find(tokens, formatter(state, exception), ref ids);
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (_, value) in values)
                {
                    if (value is string text)
                    {
                        Hits.Find(tokens, text, ref ids);
                    }
                }
            }

            for (var inner = exception; inner is not null; inner = inner.InnerException)
            {
                Hits.Find(tokens, inner.Message, ref ids);
            }

            if (ids is not null)
            {
                queue.Enqueue(SecurityEventKinds.CanaryTelemetry, new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["canaries"] = CanaryTokens.Join(ids),
                    ["source"] = "log",
                    ["category"] = category,
                    ["eventId"] = eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                });
            }
        }
        finally
        {
            t_reading = false;
        }
    }
}
