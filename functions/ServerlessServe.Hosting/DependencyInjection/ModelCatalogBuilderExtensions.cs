using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Hosting.Artifacts;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Signed, digest-verified model versions from the write-once <c>models</c> container.</summary>
public static class ModelCatalogBuilderExtensions
{
    /// <summary>
    /// The model store (trusted signers from <c>ServerlessServe:Models</c>), the signed lifecycle documents and revocation
    /// list (<c>ServerlessServe:ServingControl</c>, refreshed in the background, read first at start), the catalog of
    /// verified versions that obeys them, and its periodic re-attestation.
    /// </summary>
    public static IServerlessServeBuilder AddModelCatalog(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<ModelStoreOptions, ModelStoreOptionsValidator>(ModelStoreOptions.SectionName);
        services.AddValidatedOptions<ModelCatalogOptions, ModelCatalogOptionsValidator>(ModelCatalogOptions.SectionName);
        services.TryAddSingleton(sp => TrustedSigners.FromPem(sp.GetRequiredService<IOptions<ModelStoreOptions>>().Value.TrustedSignerPems));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ModelStoreOptions>>().Value;
            var container = sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(options.Container);
            return new ModelStore(container, sp.GetRequiredService<TrustedSigners>(), options, sp.GetRequiredService<ILogger<ModelStore>>());
        });
        services.AddValidatedOptions<ServingControlOptions, ServingControlOptionsValidator>(ServingControlOptions.SectionName);
        services.TryAddSingleton(sp => new ControlStore(sp.GetRequiredService<ModelStore>().Container, sp.GetRequiredService<TrustedSigners>()));
        services.TryAddSingleton<ServingControl>();
        services.AddHostedService<ServingControlRefresher>();
        services.AddHostedService<CatalogReattestation>();
        services.TryAddSingleton<ModelCatalog>();
        services.TryAddSingleton<IModelCatalog>(sp => sp.GetRequiredService<ModelCatalog>());
        return builder;
    }
}
