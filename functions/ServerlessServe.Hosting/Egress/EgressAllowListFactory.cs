using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Egress;

/// <summary>Builds the allow-list: configured entries plus the endpoints this process is configured to reach.</summary>
internal static class EgressAllowListFactory
{
    public static EgressAllowList Create(IServiceProvider services)
    {
        var entries = new List<string>(services.GetRequiredService<IOptions<EgressOptions>>().Value.AllowedHosts);
        var configuration = services.GetRequiredService<IConfiguration>();
        if (Uri.TryCreate(configuration[GatewayOptions.SectionName + ":InferenceBaseUrl"], UriKind.Absolute, out var inference))
        {
            entries.Add(EgressAllowList.EntryFor(inference));
        }

        // The caller issuer's and the service issuer's metadata hosts (and, where configured apart, their discovery
        // documents'): the key set is expected on the same host, as with Entra ID; another one must be listed in AllowedHosts.
        foreach (var section in new[] { CallerAuthOptions.SectionName, ServiceAuthOptions.SectionName })
        {
            foreach (var setting in new[] { "Authority", "MetadataAddress" })
            {
                if (Uri.TryCreate(configuration[section + ":" + setting], UriKind.Absolute, out var issuer))
                {
                    entries.Add(EgressAllowList.EntryFor(issuer));
                }
            }
        }

        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        if (StorageEndpoint(storage) is { } blob)
        {
            entries.Add(EgressAllowList.EntryFor(blob));
        }

        if (TableEndpoint(storage) is { } table)
        {
            entries.Add(EgressAllowList.EntryFor(table));
        }

        // The audit witness's own storage account, where one is configured.
        if (Uri.TryCreate(configuration["ServerlessServe:Audit:Witness:BlobServiceUri"], UriKind.Absolute, out var witness))
        {
            entries.Add(EgressAllowList.EntryFor(witness));
        }
        else if (configuration["ServerlessServe:Audit:Witness:ConnectionString"] is { Length: > 0 } witnessConnection)
        {
            entries.Add(EgressAllowList.EntryFor(new BlobServiceClient(witnessConnection).Uri));
        }

        // Managed identity and Entra token endpoints, used by the Azure.Identity credentials in Azure; IDENTITY_ENDPOINT is
        // the platform's managed identity endpoint (App Service, Functions, Container Apps) or, standalone, the local issuer's.
        entries.AddRange(["169.254.169.254", "login.microsoftonline.com"]);
        if (Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT") is { } identityEndpoint && Uri.TryCreate(identityEndpoint, UriKind.Absolute, out var identity))
        {
            entries.Add(EgressAllowList.EntryFor(identity));
        }

        return new EgressAllowList(entries);
    }

    /// <summary>The app's own table endpoint: the configured or derived URI, or the one the connection string names.</summary>
    public static Uri? TableEndpoint(StorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return storage.BlobServiceUri is not null
            ? storage.TableEndpoint
            : string.IsNullOrEmpty(storage.ConnectionString) ? null : new TableServiceClient(storage.ConnectionString).Uri;
    }

    /// <summary>The app's own blob endpoint: the configured URI, or the one the connection string names; null when neither is set.</summary>
    public static Uri? StorageEndpoint(StorageOptions storage)
    {
        ArgumentNullException.ThrowIfNull(storage);

        // Derive the blob endpoint from the connection string without keeping the client.
        return storage.BlobServiceUri
            ?? (string.IsNullOrEmpty(storage.ConnectionString) ? null : new BlobServiceClient(storage.ConnectionString).Uri);
    }
}
