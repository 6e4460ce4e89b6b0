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

        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        if (storage.BlobServiceUri is { } blob)
        {
            entries.Add(EgressAllowList.EntryFor(blob));
            if (storage.TableEndpoint is { } table)
            {
                entries.Add(EgressAllowList.EntryFor(table));
            }
        }
        else if (!string.IsNullOrEmpty(storage.ConnectionString))
        {
            // Derive the blob and table endpoints from the connection string without keeping the clients.
            entries.Add(EgressAllowList.EntryFor(new BlobServiceClient(storage.ConnectionString).Uri));
            entries.Add(EgressAllowList.EntryFor(new TableServiceClient(storage.ConnectionString).Uri));
        }

        // Managed identity and Entra token endpoints, used by DefaultAzureCredential in Azure.
        entries.AddRange(["169.254.169.254", "login.microsoftonline.com"]);
        if (Environment.GetEnvironmentVariable("IDENTITY_ENDPOINT") is { } identityEndpoint && Uri.TryCreate(identityEndpoint, UriKind.Absolute, out var identity))
        {
            entries.Add(EgressAllowList.EntryFor(identity));
        }

        return new EgressAllowList(entries);
    }
}
