using Microsoft.Extensions.DependencyInjection.Extensions;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Tripwires;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>INTERIM, removed with <see cref="InterimSecurityEvents"/> when the real security events are merged.</summary>
public static class InterimSecurityEventsExtensions
{
    /// <summary>A log-only <see cref="ISecurityEvents"/>, unless one is registered already.</summary>
    public static IServerlessServeBuilder AddInterimSecurityEvents(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<ISecurityEvents, InterimSecurityEvents>();
        return builder;
    }
}
