using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Signed, digest-verified model versions from the write-once <c>models</c> container.</summary>
public static class ModelCatalogBuilderExtensions
{
    /// <summary>The model store (trusted signers from <c>ServerlessServe:Models</c>) and the catalog of verified versions.</summary>
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
        services.TryAddSingleton<ModelCatalog>();
        services.TryAddSingleton<IModelCatalog>(sp => sp.GetRequiredService<ModelCatalog>());
        return builder;
    }
}
