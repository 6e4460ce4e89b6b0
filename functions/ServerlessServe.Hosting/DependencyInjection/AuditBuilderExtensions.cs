using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Hosting.Audit;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>The hash-chained audit log: every response is released only after its record is committed.</summary>
public static class AuditBuilderExtensions
{
    /// <summary>
    /// The blob audit sink (<c>ServerlessServe:Audit</c>) with its witness (<c>ServerlessServe:Audit:Witness</c>), its
    /// commit loop as a hosted service that starts with the host and drains on stop, and the caller pseudonymizer.
    /// </summary>
    public static IServerlessServeBuilder AddAuditLog(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<AuditOptions, AuditOptionsValidator>(AuditOptions.SectionName)
            .Validate(o => !string.IsNullOrEmpty(o.PseudonymKey), "ServerlessServe:Audit:PseudonymKey is required: audit records hold caller pseudonyms, never raw ids.");
        services.TryAddSingleton(sp => new CallerPseudonymizer(Convert.FromBase64String(sp.GetRequiredService<IOptions<AuditOptions>>().Value.PseudonymKey!)));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AuditOptions>>().Value;
            var service = sp.GetRequiredService<BlobServiceClient>();
            if (options.Witness.IsConfigured && options.Witness.ContainerClient is null)
            {
                options.Witness.ContainerClient = WitnessContainer(sp, options.Witness, service);
            }

            return new BlobAuditSink(service.GetBlobContainerClient(options.Container), options, sp.GetRequiredService<ILogger<BlobAuditSink>>(), sp.GetRequiredService<TimeProvider>());
        });
        services.TryAddSingleton<IAuditSink>(sp => sp.GetRequiredService<BlobAuditSink>());
        services.TryAddSingleton(sp => new AuditReceiptIndex(AuditContainer(sp), sp.GetRequiredService<ILogger<AuditReceiptIndex>>()));
        // Heads are used only when they verify under this deployment's checkpoint key (kept for the app's lifetime).
        services.TryAddSingleton(sp => new AuditProofs(AuditContainer(sp), sp.GetRequiredService<BlobAuditSink>().CheckpointPublicKey()));
        services.AddHostedService<AuditWriterService>();
        return builder;
    }

    private static BlobContainerClient AuditContainer(IServiceProvider services) =>
        services.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(services.GetRequiredService<IOptions<AuditOptions>>().Value.Container);

    /// <summary>
    /// The witness container: in its own account (<see cref="AuditWitnessOptions.BlobServiceUri"/> with the credential of
    /// <see cref="WitnessCredential"/>, or <see cref="AuditWitnessOptions.ConnectionString"/>), through the same
    /// egress-checked transport as the log's client; else a container of the log's own account (local development).
    /// </summary>
    private static BlobContainerClient WitnessContainer(IServiceProvider services, AuditWitnessOptions witness, BlobServiceClient logService)
    {
        if (witness.BlobServiceUri is null && string.IsNullOrEmpty(witness.ConnectionString))
        {
            return logService.GetBlobContainerClient(witness.Container);
        }

        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var clientOptions = new BlobClientOptions
        {
            Transport = new HttpClientTransport(services.GetRequiredService<IHttpClientFactory>().CreateClient(ServerlessServeServiceCollectionExtensions.BlobHttpClientName)),
        };
        clientOptions.Retry.MaxRetries = storage.MaxRetries;
        clientOptions.Retry.NetworkTimeout = storage.NetworkTimeout;
        var client = witness.BlobServiceUri is { } uri
            ? new BlobServiceClient(uri, WitnessCredential(witness), clientOptions)
            : new BlobServiceClient(witness.ConnectionString, clientOptions);
        return client.GetBlobContainerClient(witness.Container);
    }

    /// <summary>
    /// The credential for <see cref="AuditWitnessOptions.BlobServiceUri"/>: the user-assigned identity named by
    /// <see cref="AuditWitnessOptions.ManagedIdentityClientId"/> (the witness identity in Azure, which the app carries beside
    /// its own), else the default credential.
    /// </summary>
    internal static TokenCredential WitnessCredential(AuditWitnessOptions witness) =>
        string.IsNullOrWhiteSpace(witness.ManagedIdentityClientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(witness.ManagedIdentityClientId));
}
