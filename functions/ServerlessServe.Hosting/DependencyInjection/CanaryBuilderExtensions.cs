using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Egress;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Tripwires;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Canary tokens: honey names, canary values and the detectors that raise their security events.</summary>
public static class CanaryBuilderExtensions
{
    /// <summary>
    /// The tripwires of <c>ServerlessServe:Canaries</c> (<see cref="Canaries"/>) and the alarm their stages raise
    /// (<c>honey-caller</c>, <c>honey-model</c>, <c>canary</c>; <c>AddGatewayPipeline</c> places them); the search for
    /// canary values in every outbound request (a handler before the egress allow-list on every client from the
    /// factory), in every log line (a logger provider) and in the app's spans (a listener), whose hits a hosted service
    /// raises. Needs an <see cref="ISecurityEvents"/> and <c>AddAuditLog</c> (the caller pseudonymizer).
    /// </summary>
    public static IServerlessServeBuilder AddCanaries(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(CanaryAlarmQueue)))
        {
            return builder;
        }

        services.AddValidatedOptions<CanaryOptions, CanaryOptionsValidator>(CanaryOptions.SectionName);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<CanaryOptions>>().Value.ToCanaries());
        services.TryAddSingleton<CanaryAlarm>();
        services.TryAddSingleton<CanaryAlarmQueue>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CanaryAlarmService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, CanaryLoggerProvider>());
        services.TryAddTransient<CanaryEgressHandler>();

        // First in every client's chain, so a call the allow-list refuses is still searched.
        services.ConfigureHttpClientDefaults(client => client.ConfigureAdditionalHttpMessageHandlers(
            (handlers, sp) => handlers.Insert(0, sp.GetRequiredService<CanaryEgressHandler>())));
        return builder;
    }
}
