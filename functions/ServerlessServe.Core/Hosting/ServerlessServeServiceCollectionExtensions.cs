using System.Security.Cryptography;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Hosting.Options;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Inference;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Core.Hosting;

/// <summary>
/// Service registration for both Function Apps. Both hosts (Functions and standalone) call exactly these methods, so
/// no behaviour lives only in one host. Every registration uses <c>TryAdd*</c> so tests and hosts can override.
/// </summary>
public static class ServerlessServeServiceCollectionExtensions
{
    /// <summary>What both apps share: options, time, storage, the model store, egress and telemetry.</summary>
    public static IServiceCollection AddServerlessServeCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (LocalStateConfiguration.Apply(configuration) is { } localState)
        {
            services.AddHostedService(sp => new LocalStateNotice(localState, sp.GetRequiredService<ILogger<LocalStateNotice>>()));
        }

        // Request URLs (query strings, Host headers) are caller data: ASP.NET Core's per-request logs stay off.
        services.AddLogging(logging => logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning));
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName)
            .Validate(o => !string.IsNullOrEmpty(o.ConnectionString) ^ o.BlobServiceUri is not null, "Set exactly one of ServerlessServe:Storage:ConnectionString or BlobServiceUri.")
            .ValidateOnStart();
        services.AddOptions<ModelStoreOptions>().BindConfiguration(ModelStoreOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EgressOptions>().BindConfiguration(EgressOptions.SectionName);
        services.AddOptions<ProtocolLimits>().BindConfiguration(ProtocolLimits.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ModelCatalogOptions>().BindConfiguration(ModelCatalogOptions.SectionName);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<ProtocolLimits>>().Value);

        services.TryAddSingleton(sp => EgressAllowListFactory.Create(sp));
        services.TryAddTransient<EgressAllowListHandler>();

        // Every client from the factory checks the allow-list, and never follows a redirect: a redirect would be a
        // second destination the allow-list did not see.
        services.ConfigureHttpClientDefaults(client => client
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .AddHttpMessageHandler<EgressAllowListHandler>());
        services.AddHttpClient(BlobHttpClientName);
        services.TryAddSingleton(CreateBlobServiceClient);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ModelStoreOptions>>().Value;
            return TrustedSigners.FromPem(options.TrustedSignerPems);
        });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ModelStoreOptions>>().Value;
            var container = sp.GetRequiredService<BlobServiceClient>().GetBlobContainerClient(options.Container);
            return new ModelStore(container, sp.GetRequiredService<TrustedSigners>(), options, sp.GetRequiredService<ILogger<ModelStore>>());
        });
        services.AddServerlessServeTelemetry(configuration);
        return services;
    }

    /// <summary>The gateway: caller authentication, the catalog of verified versions, the inference client and audit.</summary>
    public static IServiceCollection AddServerlessServeGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddServerlessServeCore(configuration);
        services.AddOptions<CallerAuthOptions>().BindConfiguration(CallerAuthOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ServiceTokenOptions>().BindConfiguration(ServiceTokenOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => !string.IsNullOrWhiteSpace(o.SigningKeyPem), "ServerlessServe:ServiceToken:SigningKeyPem is required on the gateway.")
            .ValidateOnStart();
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<CallerAuthOptions>>().Value;
            var validator = new TokenValidator(options.IssuerPublicKeyPems.Select(SigningKeys.ImportPem), options.Issuer, options.Audience, sp.GetRequiredService<TimeProvider>(), options.MaxTokenLifetime, options.ClockSkew);
            return new CallerAuthenticator(validator);
        });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServiceTokenOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var issuer = new TokenIssuer(SigningKeys.ImportPem(options.SigningKeyPem!), options.Issuer, time);
            return new ServiceTokenSource(issuer, options.Audience, options.Lifetime, time);
        });
        services.TryAddSingleton<ModelCatalog>();
        services.TryAddSingleton<IModelCatalog>(sp => sp.GetRequiredService<ModelCatalog>());
        services.AddHttpClient<InferenceClient>((sp, http) =>
            {
                var options = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
                http.BaseAddress = EnsureTrailingSlash(options.InferenceBaseUrl!);
                http.Timeout = options.InferenceTimeout;
            });
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return new CallerPseudonymizer(Convert.FromBase64String(options.PseudonymKey!));
        });
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.SectionName)
            .PostConfigure<IOptions<GatewayOptions>>((audit, gateway) => audit.CheckpointKeyPem ??= gateway.Value.AuditCheckpointKeyPem);
        services.TryAddSingleton<BlobAuditSink>();
        services.TryAddSingleton<IAuditSink>(sp => sp.GetRequiredService<BlobAuditSink>());
        services.TryAddSingleton<ResponseRedactor>();
        services.TryAddScoped<GatewayService>();
        return services;
    }

    /// <summary>The inference app: service-token authentication, verified model loading and ONNX Runtime.</summary>
    public static IServiceCollection AddServerlessServeInference(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddServerlessServeCore(configuration);
        services.AddOptions<ServiceTokenOptions>().BindConfiguration(ServiceTokenOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.TrustedKeyPems.Count > 0, "ServerlessServe:ServiceToken:TrustedKeyPems needs at least one key on the inference app.")
            .ValidateOnStart();
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.SectionName);

        // The gateway forwards validated requests in the binary encoding, which can be larger than the JSON the caller
        // sent (an FP64 "0," is 2 bytes in JSON, 8 in binary): the inference app accepts what the gateway's element
        // cap allows unless configured otherwise.
        services.PostConfigure<ProtocolLimits>(limits =>
        {
            if (configuration[ProtocolLimits.SectionName + ":MaxBodyBytes"] is null)
            {
                limits.MaxBodyBytes = (int)Math.Min(int.MaxValue, Math.Max(limits.MaxBodyBytes, (limits.MaxElementsPerRequest * 8L) + (1024 * 1024)));
            }
        });

        // The inference app verifies model bytes when it loads them, so its catalog need not stream them first.
        services.PostConfigure<ModelCatalogOptions>(o => o.VerifyModelDigest = false);
        services.TryAddSingleton<ModelCatalog>();
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServiceTokenOptions>>().Value;
            var validator = new TokenValidator(options.TrustedKeyPems.Select(SigningKeys.ImportPem), options.Issuer, options.Audience, sp.GetRequiredService<TimeProvider>(), options.Lifetime, TimeSpan.FromSeconds(30));
            return new ServiceAuthenticator(validator);
        });
        services.TryAddSingleton<OnnxSessionCache>();
        services.TryAddSingleton<OnnxModelRunner>();
        services.TryAddSingleton<InferenceModelHost>();
        services.TryAddScoped<InferenceService>();
        return services;
    }

    internal const string BlobHttpClientName = "blob-storage";

    private static BlobServiceClient CreateBlobServiceClient(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var http = services.GetRequiredService<IHttpClientFactory>().CreateClient(BlobHttpClientName);
        var clientOptions = new BlobClientOptions { Transport = new HttpClientTransport(http) };
        clientOptions.Retry.MaxRetries = 3;
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options.BlobServiceUri is { } uri
            ? new BlobServiceClient(uri, new DefaultAzureCredential(), clientOptions)
            : new BlobServiceClient(options.ConnectionString, clientOptions);
    }

    private static Uri EnsureTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
