using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Defenses.Extraction;
using ServerlessServe.Hosting.Extraction;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Model-extraction detection per caller and model (the <c>extract</c> stage's detector, state store and alarms).</summary>
public static class ExtractionBuilderExtensions
{
    /// <summary>
    /// The detector (<c>ServerlessServe:Extraction</c>), the state store on the storage account's table
    /// (<c>ServerlessServe:Extraction:Store</c>) with its background work as a hosted service (table created at start,
    /// a write pass every flush interval, everything written on stop), and the alarms, raised through the registered
    /// <c>ISecurityEvents</c>. Needs <c>AddAuditLog</c> (the caller pseudonymizer) for the stage.
    /// </summary>
    public static IServerlessServeBuilder AddExtractionDetection(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<ExtractionDetectorOptions, ExtractionDetectorOptionsValidator>(ExtractionDetectorOptions.SectionName);
        services.AddValidatedOptions<ExtractionStoreOptions, ExtractionStoreOptionsValidator>(ExtractionStoreOptions.SectionName);
        services.TryAddSingleton(sp => new ExtractionDetector(sp.GetRequiredService<IOptions<ExtractionDetectorOptions>>().Value));
        services.TryAddSingleton<ExtractionAlarms>();
        services.TryAddSingleton(sp => new ExtractionStateStore(
            sp.GetRequiredService<TableServiceClient>().GetTableClient(sp.GetRequiredService<IOptions<ExtractionStoreOptions>>().Value.TableName),
            sp.GetRequiredService<ExtractionDetector>(),
            sp.GetRequiredService<ExtractionAlarms>(),
            sp.GetRequiredService<IOptions<ExtractionStoreOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ExtractionStateStore>>()));
        services.AddHostedService<ExtractionStoreService>();
        return builder;
    }
}
