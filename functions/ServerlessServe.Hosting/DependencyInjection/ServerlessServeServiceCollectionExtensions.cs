using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Hosting.Egress;
using ServerlessServe.Hosting.Functions;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Telemetry;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>
/// The entry point of registration for both Function Apps and both hosts (Functions and standalone), so no behaviour
/// lives only in one host. Every registration uses <c>TryAdd*</c>, so tests and hosts can replace a service first.
/// </summary>
public static class ServerlessServeServiceCollectionExtensions
{
    internal const string BlobHttpClientName = "blob-storage";

    /// <summary>
    /// What every app needs: time, protocol limits, the egress allow-list on every HTTP client, the storage clients (blob
    /// and table) and telemetry. Returns the builder the features add themselves to.
    /// </summary>
    public static IServerlessServeBuilder AddServerlessServe(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Request URLs (query strings, Host headers) are caller data: ASP.NET Core's per-request logs stay off. The Azure
        // SDK's request and response logs (forwarded by Microsoft.Extensions.Azure) and the HTTP client factory's logs of
        // every outbound call name every blob and model and cost time on the audit path: warnings and errors only.
        services.AddLogging(logging => logging
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .AddFilter("Azure", LogLevel.Warning)
            .AddFilter("System.Net.Http.HttpClient", LogLevel.Warning)

            // Polly reports every attempt of every call at Information (one console line per request to the inference
            // app); retries and an opening breaker are Warning and still appear.
            .AddFilter("Polly", LogLevel.Warning));
        services.TryAddSingleton(TimeProvider.System);

        // The app's own routes (from the build's functions.metadata), for the catch-all function's 404 and 405.
        services.TryAddSingleton(_ => FunctionRouteTable.Load(AppContext.BaseDirectory));
        services.TryAddSingleton<UnmatchedRoutes>();
        services.AddValidatedOptions<ProtocolLimits, ProtocolLimitsValidator>(ProtocolLimits.SectionName);
        services.AddValidatedOptions<EdgeOptions, EdgeOptionsValidator>(EdgeOptions.SectionName);

        // Kestrel's sockets transport takes its memory from this service: 64 KiB blocks, bounded (EdgeOptions). Added, not
        // TryAdded: Kestrel has registered its own 4 KiB pool by now, and the last registration is the one it gets.
        services.AddSingleton<IMemoryPoolFactory<byte>, ReceiveBlockMemoryPoolFactory>();
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ProtocolLimits>>().Value);
        services.TryAddSingleton(sp => new TensorArrayPool(sp.GetRequiredService<ProtocolLimits>().PooledTensorBytes));
        services.AddValidatedOptions<StorageOptions, StorageOptionsValidator>(StorageOptions.SectionName);
        services.AddValidatedOptions<EgressOptions, EgressOptionsValidator>(EgressOptions.SectionName);

        services.TryAddSingleton(EgressAllowListFactory.Create);
        services.TryAddTransient<EgressAllowListHandler>();

        // Every client from the factory checks the allow-list, and never follows a redirect: a redirect would be a
        // second destination the allow-list did not see.
        services.ConfigureHttpClientDefaults(client => client
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .AddHttpMessageHandler<EgressAllowListHandler>());
        services.AddHttpClient(BlobHttpClientName);
        services.AddAzureClients(azure =>
        {
            // Identity-based in Azure (the app's managed identity); Azurite's development string locally.
            azure.UseCredential(_ => new DefaultAzureCredential());
            azure.AddClient<BlobServiceClient, BlobClientOptions>((clientOptions, credential, provider) =>
            {
                var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
                clientOptions.Transport = new HttpClientTransport(provider.GetRequiredService<IHttpClientFactory>().CreateClient(BlobHttpClientName));
                clientOptions.Retry.MaxRetries = storage.MaxRetries;
                clientOptions.Retry.NetworkTimeout = storage.NetworkTimeout;
                return storage.BlobServiceUri is { } uri
                    ? new BlobServiceClient(uri, credential, clientOptions)
                    : new BlobServiceClient(storage.ConnectionString, clientOptions);
            });
            azure.AddClient<TableServiceClient, TableClientOptions>((clientOptions, credential, provider) =>
            {
                var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
                clientOptions.Transport = new HttpClientTransport(provider.GetRequiredService<IHttpClientFactory>().CreateClient(BlobHttpClientName));
                clientOptions.Retry.MaxRetries = storage.MaxRetries;
                clientOptions.Retry.NetworkTimeout = storage.NetworkTimeout;
                return storage.TableEndpoint is { } uri
                    ? new TableServiceClient(uri, credential, clientOptions)
                    : new TableServiceClient(storage.ConnectionString, clientOptions);
            });
        });
        services.AddServerlessServeTelemetry(configuration);
        return new ServerlessServeBuilder(services, configuration);
    }

    /// <summary>Binds <typeparamref name="TOptions"/> from <paramref name="section"/>, validated by its source-generated validator at start.</summary>
    internal static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart();
    }
}
