using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Logging for an app that runs as the Functions host's isolated worker.</summary>
public static class FunctionsHostLogging
{
    /// <summary>
    /// Writes warnings and errors to the worker's console as single lines, which the Functions host relays into its own
    /// log. The host drops log messages the worker sends it outside a function invocation, so without this the apps'
    /// start-up warnings (keys from the local state folder, options) and background errors (audit checkpoints) would
    /// never be seen under the host. Inside an invocation a warning is therefore logged twice (relayed and console).
    /// </summary>
    public static IHostApplicationBuilder AddWorkerConsoleWarnings(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Logging.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.IncludeScopes = false;
        });
        builder.Logging.AddFilter<ConsoleLoggerProvider>(level => level >= LogLevel.Warning);
        return builder;
    }
}
