using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect.Configuration;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>
/// The caller issuer's OpenID Connect metadata: one configuration manager for the process, fetching the discovery
/// document and its key set through the app's HTTP client factory (so the egress allow-list and the no-redirect rule
/// apply), refreshed every <see cref="CallerAuthOptions.AutomaticRefreshInterval"/> and on request. The library's own
/// gate between requested refreshes is set to its minimum: <c>OidcTokenValidator</c> decides how often an unknown
/// <c>kid</c> may ask for one. A refresh that returns no signing key is not taken (the last good one stays).
/// </summary>
internal static class CallerIssuerMetadata
{
    /// <summary>The service key of the caller issuer's configuration manager (other issuers may come with other keys).</summary>
    public const string ServiceKey = "caller-issuer";

    /// <summary>The named HTTP client of metadata and key-set requests.</summary>
    public const string HttpClientName = "oidc-metadata";

    public static ConfigurationManager<OpenIdConnectConfiguration> Create(IHttpClientFactory clients, IOptions<CallerAuthOptions> options)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        var retriever = new HttpDocumentRetriever(clients.CreateClient(HttpClientName)) { RequireHttps = value.RequireHttpsMetadata };
        return new ConfigurationManager<OpenIdConnectConfiguration>(
            value.ResolvedMetadataAddress!.AbsoluteUri,
            new OpenIdConnectConfigurationRetriever(),
            retriever,
            new OpenIdConnectConfigurationValidator())
        {
            AutomaticRefreshInterval = value.AutomaticRefreshInterval,
            RefreshInterval = ConfigurationManager<OpenIdConnectConfiguration>.MinimumRefreshInterval,
        };
    }
}
