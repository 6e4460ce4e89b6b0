using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Tests.Tripwires;

/// <summary>A log line that carries a canary value raises one <c>canary-telemetry</c> event; clean lines raise none.</summary>
public sealed partial class CanaryLoggerTests
{
    private const string Token = "log-canary-for-logger-tests";

    [Fact]
    public async Task Log_LineCarryingACanary_OneEventNamingItsIdNeverItsValue()
    {
        await using var services = await TripwireServices.StartAsync(Settings());
        var logger = services.Provider.GetRequiredService<ILoggerFactory>().CreateLogger("Tests.Careless");

        LogNote(logger, "stored note: " + Token + " (twice: " + Token + ")");
        LogNote(logger, "a clean note");
        await services.StopAsync();

        var raised = Assert.Single(services.Events.Raised);
        Assert.Equal(SecurityEventKinds.CanaryTelemetry, raised.Kind);
        Assert.Equal(CanaryTokens.IdOf(Token), raised.Evidence["canaries"]);
        Assert.Equal(("log", "Tests.Careless", "7001"), (raised.Evidence["source"], raised.Evidence["category"], raised.Evidence["eventId"]));
        Assert.Equal(ContainmentKind.None, raised.Action.Kind);
        Assert.DoesNotContain(Token, JsonSerializer.Serialize(raised), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Log_CanaryInAnExceptionMessage_OneEvent()
    {
        await using var services = await TripwireServices.StartAsync(Settings());
        var logger = services.Provider.GetRequiredService<ILoggerFactory>().CreateLogger("Tests.Failing");

        LogFailure(logger, new InvalidOperationException("outer", new FormatException("bad value " + Token)));
        await services.StopAsync();

        Assert.Equal(CanaryTokens.IdOf(Token), Assert.Single(services.Events.Raised).Evidence["canaries"]);
    }

    [Fact]
    public async Task Log_TheEventItselfLogged_NoLoop()
    {
        await using var services = await TripwireServices.StartAsync(Settings());
        var logger = services.Provider.GetRequiredService<ILoggerFactory>().CreateLogger("Tests.Careless");

        // As a real implementation does: each event written to the log (ids, never values).
        services.Events.OnRaise = e => LogEvent(logger, e.Kind, string.Join(' ', e.Evidence.Select(p => $"{p.Key}={p.Value}")));
        LogNote(logger, Token);
        await Task.Delay(200);
        await services.StopAsync();

        Assert.Single(services.Events.Raised);
    }

    [Fact]
    public async Task Logger_NoCanaries_NeverEnabled()
    {
        await using var services = await TripwireServices.StartAsync(new Dictionary<string, string?>());
        var provider = services.Provider.GetServices<ILoggerProvider>().OfType<Hosting.Tripwires.CanaryLoggerProvider>().Single();

        Assert.False(provider.CreateLogger("Any").IsEnabled(LogLevel.Critical));
        LogNote(services.Provider.GetRequiredService<ILoggerFactory>().CreateLogger("Any"), Token);
        await services.StopAsync();
        Assert.Empty(services.Events.Raised);
    }

    private static Dictionary<string, string?> Settings() => new() { ["ServerlessServe:Canaries:Tokens:0"] = Token };

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Customer note: {Note}")]
    private static partial void LogNote(ILogger logger, string note);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "Failed")]
    private static partial void LogFailure(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Security event {Kind}: {Evidence}")]
    private static partial void LogEvent(ILogger logger, string kind, string evidence);
}
