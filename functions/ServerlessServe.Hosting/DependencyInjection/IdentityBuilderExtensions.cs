using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.DependencyInjection;

/// <summary>Who may call: callers of the gateway, and the gateway itself on the inference app.</summary>
public static class IdentityBuilderExtensions
{
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
        services.AddHttpClient(CallerIssuerMetadata.HttpClientName, (sp, http) =>
            http.Timeout = sp.GetRequiredService<IOptions<CallerAuthOptions>>().Value.MetadataTimeout);
        services.TryAddKeyedSingleton<IConfigurationManager<OpenIdConnectConfiguration>>(CallerIssuerMetadata.ServiceKey, (sp, _) =>
            CallerIssuerMetadata.Create(sp.GetRequiredService<IHttpClientFactory>(), sp.GetRequiredService<IOptions<CallerAuthOptions>>()));
        services.TryAddSingleton(sp => new CallerAuthenticator(new OidcTokenValidator(
            sp.GetRequiredKeyedService<IConfigurationManager<OpenIdConnectConfiguration>>(CallerIssuerMetadata.ServiceKey),
            sp.GetRequiredService<IOptions<CallerAuthOptions>>().Value.ToPolicy(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<OidcTokenValidator>>())));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CallerIssuerNotice>());
        return builder;
    }

    /// <summary>The gateway's short-lived service tokens for the inference app (<c>ServerlessServe:ServiceToken:SigningKeyPem</c>).</summary>
    public static IServerlessServeBuilder AddServiceTokenIssuer(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<ServiceTokenOptions, ServiceTokenOptionsValidator>(ServiceTokenOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.SigningKeyPem), "ServerlessServe:ServiceToken:SigningKeyPem is required on the gateway.");
        builder.Services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServiceTokenOptions>>().Value;
            var time = sp.GetRequiredService<TimeProvider>();
            var issuer = new TokenIssuer(SigningKeys.ImportPem(options.SigningKeyPem!), options.Issuer, time);
            return new ServiceTokenSource(issuer, options.Audience, options.Lifetime, time);
        });
        return builder;
    }

    /// <summary>On the inference app: only service tokens signed by <c>ServerlessServe:ServiceToken:TrustedKeyPems</c>.</summary>
    public static IServerlessServeBuilder AddServiceAuthentication(this IServerlessServeBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddValidatedOptions<ServiceTokenOptions, ServiceTokenOptionsValidator>(ServiceTokenOptions.SectionName)
            .Validate(o => o.TrustedKeyPems.Count > 0, "ServerlessServe:ServiceToken:TrustedKeyPems needs at least one key on the inference app.");
        builder.Services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<ServiceTokenOptions>>().Value;
            var validator = new TokenValidator(options.TrustedKeyPems.Select(SigningKeys.ImportPem), options.Issuer, options.Audience, sp.GetRequiredService<TimeProvider>(), options.Lifetime, options.ClockSkew);
            return new ServiceAuthenticator(validator);
        });
        return builder;
    }
}
