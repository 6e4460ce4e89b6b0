using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Security;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Security events and the containment they set: throttles, blocks and quarantines shared through a table.</summary>
public static class ContainmentBuilderExtensions
{
    /// <summary>
    /// The containment table (<c>ServerlessServe:Containment</c>) and this instance's
    /// view of it (refreshed in the background, read first at start), the catalog's quarantine list, and
    /// <see cref="ISecurityEvents"/>. Needs the audit log (<c>AddAuditLog</c>).
    /// </summary>
    public static IServerlessServeBuilder AddContainment(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddContainmentStore();
        services.TryAddSingleton<ContainmentRegistry>();
        services.TryAddSingleton<IModelQuarantine>(sp => sp.GetRequiredService<ContainmentRegistry>());
        services.TryAddSingleton<SecurityEventWriter>();
        services.TryAddSingleton<ISecurityEvents>(sp => sp.GetRequiredService<SecurityEventWriter>());
        services.AddHostedService<ContainmentRefresher>();
        return builder;
    }

    /// <summary>The containment table alone (<c>ServerlessServe:Containment:Table</c>), for what reads and sets it directly.</summary>
    internal static IServiceCollection AddContainmentStore(this IServiceCollection services)
    {
        services.AddValidatedOptions<ContainmentOptions, ContainmentOptionsValidator>(ContainmentOptions.SectionName);
        services.TryAddSingleton(sp => new ContainmentStore(sp.GetRequiredService<TableServiceClient>()
            .GetTableClient(sp.GetRequiredService<IOptions<ContainmentOptions>>().Value.Table)));
        return services;
    }
}
