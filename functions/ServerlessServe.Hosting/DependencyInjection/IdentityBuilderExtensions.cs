using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Core.Identity;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Who may call: callers of the gateway, and the gateway itself on the inference app.</summary>
public static class IdentityBuilderExtensions
{
    /// <summary>The named HTTP client of managed identity token requests (through the egress allow-list).</summary>
    internal const string ManagedIdentityHttpClientName = "managed-identity";

    /// <summary>The service key of the gateway's credential for the inference app.</summary>
    internal const string ServiceCredentialKey = "service-token";

    /// <summary>
    /// Caller bearer tokens validated against the OpenID Connect issuer of <c>ServerlessServe:Identity</c> (authority,
    /// audiences; see <see cref="CallerAuthOptions"/>): its metadata and keys fetched through the HTTP client factory,
    /// whose allow-list admits the issuer's host (<c>EgressAllowListFactory</c>).
    /// </summary>
    public static IServerlessServeBuilder AddCallerAuthentication(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<CallerAuthOptions, CallerAuthOptionsValidator>(CallerAuthOptions.SectionName);
        services.AddHttpClient(IssuerMetadata.HttpClientName);
        services.TryAddKeyedSingleton<IConfigurationManager<OpenIdConnectConfiguration>>(IssuerMetadata.CallerKey, (sp, _) =>
            IssuerMetadata.Create(sp.GetRequiredService<IHttpClientFactory>(), sp.GetRequiredService<IOptions<CallerAuthOptions>>().Value));
        services.TryAddSingleton(sp => new CallerAuthenticator(new OidcTokenValidator(
            sp.GetRequiredKeyedService<IConfigurationManager<OpenIdConnectConfiguration>>(IssuerMetadata.CallerKey),
            sp.GetRequiredService<IOptions<CallerAuthOptions>>().Value.ToPolicy(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OidcTokenValidator>>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CallerIssuerNotice>());
        return builder;
    }

    /// <summary>
    /// The gateway's tokens for the inference app (<c>ServerlessServe:ServiceToken</c>, see <see cref="ServiceTokenOptions"/>):
    /// Azure.Identity's <see cref="ManagedIdentityCredential"/> — the user-assigned identity of <c>ClientId</c> (else
    /// <c>AZURE_CLIENT_ID</c>), else the system-assigned one — whose requests go through the HTTP client factory and
    /// the egress allow-list, behind a <see cref="ServiceTokenCache"/>.
    /// </summary>
    public static IServerlessServeBuilder AddServiceTokens(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<ServiceTokenOptions, ServiceTokenOptionsValidator>(ServiceTokenOptions.SectionName)
            .PostConfigure<IConfiguration>((options, configuration) => options.ClientId ??= NullIfEmpty(configuration["AZURE_CLIENT_ID"]));
        services.AddHttpClient(ManagedIdentityHttpClientName, (sp, http) => http.Timeout = sp.GetRequiredService<IOptions<ServiceTokenOptions>>().Value.Timeout);
        services.TryAddKeyedSingleton<TokenCredential>(ServiceCredentialKey, (sp, _) =>
        {
            var options = sp.GetRequiredService<IOptions<ServiceTokenOptions>>().Value;
            var identity = options.ClientId is { } clientId ? ManagedIdentityId.FromUserAssignedClientId(clientId) : ManagedIdentityId.SystemAssigned;
            Log.ServiceTokenIdentity(sp.GetRequiredService<ILogger<ServiceTokenCache>>(), options.ClientId is null ? "system-assigned" : "user-assigned", options.Resource!);
            return new ManagedIdentityCredential(new ManagedIdentityCredentialOptions(identity)
            {
                Transport = new HttpClientTransport(sp.GetRequiredService<IHttpClientFactory>().CreateClient(ManagedIdentityHttpClientName)),
            });
        });
        services.TryAddSingleton(sp => new ServiceTokenCache(
            sp.GetRequiredKeyedService<TokenCredential>(ServiceCredentialKey),
            sp.GetRequiredService<IOptions<ServiceTokenOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<ServiceTokenCache>>()));
        return builder;
    }

    /// <summary>
    /// On the inference app: only tokens of the issuer of <c>ServerlessServe:ServiceAuth</c> for the inference app's
    /// audience, from one of its allowed identities (the gateway's; see <see cref="ServiceAuthOptions"/>).
    /// </summary>
    public static IServerlessServeBuilder AddServiceAuthentication(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddValidatedOptions<ServiceAuthOptions, ServiceAuthOptionsValidator>(ServiceAuthOptions.SectionName);
        services.AddHttpClient(IssuerMetadata.HttpClientName);
        services.TryAddKeyedSingleton<IConfigurationManager<OpenIdConnectConfiguration>>(IssuerMetadata.ServiceKey, (sp, _) =>
            IssuerMetadata.Create(sp.GetRequiredService<IHttpClientFactory>(), sp.GetRequiredService<IOptions<ServiceAuthOptions>>().Value));
        services.TryAddSingleton(sp => new ServiceAuthenticator(new OidcTokenValidator(
            sp.GetRequiredKeyedService<IConfigurationManager<OpenIdConnectConfiguration>>(IssuerMetadata.ServiceKey),
            sp.GetRequiredService<IOptions<ServiceAuthOptions>>().Value.ToPolicy(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OidcTokenValidator>>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ServiceIssuerNotice>());
        return builder;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
