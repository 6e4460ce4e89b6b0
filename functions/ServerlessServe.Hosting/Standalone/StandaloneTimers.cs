using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NCrontab;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Runs the app's timer-triggered functions under the standalone host, on the schedule <c>functions.metadata</c>
/// declares, read the way the Functions host reads it: a six-field NCRONTAB expression (seconds first), five fields,
/// or a <c>TimeSpan</c> interval; <c>%name%</c> is an app setting (a missing one stops the start, as the Functions host
/// would not load the function). Runs never overlap; one that throws is logged and the next runs on time.
/// </summary>
internal sealed partial class StandaloneTimers : BackgroundService
{
    public const string TimerTrigger = "timerTrigger";

    private readonly IReadOnlyList<(TriggeredFunction Function, Func<DateTime, DateTime> Next)> _timers;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<StandaloneTimers> _logger;

    public StandaloneTimers(StandaloneFunctions functions, IConfiguration configuration, IServiceProvider services, TimeProvider time, ILogger<StandaloneTimers> logger)
    {
        _services = services;
        _time = time;
        _logger = logger;
        _timers = functions.WithTrigger(TimerTrigger).Select(f => (f, Schedule(f, configuration))).ToList();
    }

    /// <summary>The next occurrence after a UTC time, from the function's <c>schedule</c>.</summary>
    public static Func<DateTime, DateTime> Schedule(TriggeredFunction function, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(configuration);
        var text = function.Properties.TryGetValue("schedule", out var s) ? s : throw new InvalidOperationException($"Timer function '{function.Name}' has no schedule.");
        if (text.Length > 2 && text[0] == '%' && text[^1] == '%')
        {
            var name = text[1..^1];
            text = configuration[name] is { Length: > 0 } value
                ? value
                : throw new InvalidOperationException($"Timer function '{function.Name}': app setting '{name}' for its schedule is not set.");
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var interval) && interval > TimeSpan.Zero)
        {
            return after => after + interval;
        }

        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var cron = CrontabSchedule.TryParse(text, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 })
            ?? throw new InvalidOperationException($"Timer function '{function.Name}': '{text}' is not an NCRONTAB expression or a TimeSpan.");
        return cron.GetNextOccurrence;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_timers.Select(t => RunAsync(t.Function, t.Next, stoppingToken)));

    private async Task RunAsync(TriggeredFunction function, Func<DateTime, DateTime> next, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow().UtcDateTime;
            var wait = next(now) - now;
            try
            {
                await Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, _time, stoppingToken).ConfigureAwait(false);
                await InvokeAsync(function, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A timer run that fails is logged; the schedule goes on, as under the Functions host.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                TimerFailed(_logger, function.Name, ex);
            }
        }
    }

    private async Task InvokeAsync(TriggeredFunction function, CancellationToken cancellationToken)
    {
        await using var scope = _services.CreateAsyncScope();
        var method = function.Method;
        var target = method.IsStatic ? null : ActivatorUtilities.CreateInstance(scope.ServiceProvider, method.DeclaringType!);
        var arguments = method.GetParameters().Select(p => Argument(p, scope.ServiceProvider, cancellationToken)).ToArray();
        object? returned;
        try
        {
            returned = method.Invoke(target, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }

        if (returned is Task task)
        {
            await task.ConfigureAwait(false);
        }
    }

    // The trigger's own parameter (TimerInfo) is made fresh; a token is the host's; anything else comes from DI.
    private static object? Argument(ParameterInfo parameter, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return cancellationToken;
        }

        if (parameter.GetCustomAttributes().Any(a => a.GetType().Name == "TimerTriggerAttribute"))
        {
            return Activator.CreateInstance(parameter.ParameterType);
        }

        return services.GetRequiredService(parameter.ParameterType);
    }

    [LoggerMessage(EventId = 1051, Level = LogLevel.Error, Message = "Timer function {Function} failed; it runs again on schedule")]
    private static partial void TimerFailed(ILogger logger, string function, Exception exception);
}

/// <summary>Says the standalone host runs timer triggers.</summary>
internal sealed class TimerTriggerSupport : IStandaloneTriggerSupport
{
    public IReadOnlyCollection<string> TriggerTypes { get; } = [StandaloneTimers.TimerTrigger];
}
