using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Hosting.Admin;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>The admin plane: models, containment and the audit trail, managed by callers with the admin role.</summary>
public static class AdminBuilderExtensions
{
    /// <summary>
    /// The admin endpoints (<c>ServerlessServe:Admin</c>) over the model store, the containment table (also read every
    /// refresh interval, for revoked admin tokens and blocked admins) and the audit container, with the audit of every
    /// admin action. Needs <c>AddModelCatalog</c> (the store and trusted signers),
    /// <c>AddCallerAuthentication</c> (configured with the admin app's own audience) and <c>AddAuditLog</c>.
    /// </summary>
    public static IServerlessServeBuilder AddAdminPlane(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<AdminOptions, AdminOptionsValidator>(AdminOptions.SectionName);
        builder.AddContainment();
        services.AddValidatedOptions<SignatureOptions, SignatureOptionsValidator>(SignatureOptions.SectionName);
        services.TryAddSingleton(sp => new RequestKeyStore(sp.GetRequiredService<TableServiceClient>()
            .GetTableClient(sp.GetRequiredService<IOptions<SignatureOptions>>().Value.KeyTable)));
        services.TryAddSingleton<OperatorContainment>();
        services.TryAddSingleton<ModelInventory>();
        services.TryAddSingleton<AdminAudit>();
        services.TryAddSingleton<AdminGate>();
        services.TryAddKeyedSingleton(AdminRefusalSummaries.TallyKey, (sp, _) => new RateLimitRefusalTally(
            sp.GetRequiredService<IOptions<AdminOptions>>().Value.SummarizeRefusals, stages: AdminRefusalSummaries.Stages, firstPerStage: true));
        services.AddHostedService<AdminRefusalSummaries>();
        services.TryAddSingleton(sp => new AuditReader(
            sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(sp.GetRequiredService<IOptions<AuditOptions>>().Value.Container),
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp =>
        {
            var audit = sp.GetRequiredService<IOptions<AuditOptions>>().Value;
            var pems = sp.GetRequiredService<IOptions<AdminOptions>>().Value.TrustedCheckpointKeyPems;
            var keys = pems.Select(SigningKeys.ImportPem).ToList();
            if (audit.CheckpointKey is { } key)
            {
                keys.Add(key);
            }
            else if (!string.IsNullOrEmpty(audit.CheckpointKeyPem))
            {
                keys.Add(SigningKeys.ImportPem(audit.CheckpointKeyPem));
            }

            return new AdminCheckpointKeys(keys);
        });
        services.TryAddSingleton(sp => new AdminEndpoints(
            sp.GetRequiredService<AdminGate>(),
            sp.GetRequiredService<AdminAudit>(),
            sp.GetRequiredService<ModelInventory>(),
            sp.GetRequiredService<ModelStore>(),
            sp.GetRequiredService<TrustedSigners>(),
            sp.GetRequiredService<OperatorContainment>(),
            sp.GetRequiredService<CallerPseudonymizer>(),
            sp.GetRequiredService<AuditReader>(),
            sp.GetRequiredService<AdminCheckpointKeys>(),
            sp.GetRequiredService<RequestKeyStore>(),
            sp.GetRequiredKeyedService<RateLimitRefusalTally>(AdminRefusalSummaries.TallyKey),
            sp.GetRequiredService<IOptions<AdminOptions>>(),
            sp.GetRequiredService<IOptions<CallerAuthOptions>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<AdminEndpoints>>()));
        return builder;
    }
}
