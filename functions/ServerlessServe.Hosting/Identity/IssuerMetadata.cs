using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect.Configuration;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>
/// An issuer's OpenID Connect metadata: one configuration manager per issuer and process, fetching the discovery
/// document and its key set through the app's HTTP client factory (so the egress allow-list and the no-redirect rule
/// apply), refreshed every <see cref="OidcIssuerOptions.AutomaticRefreshInterval"/> and on request. The library's own
/// gate between requested refreshes is set to its minimum: <c>OidcTokenValidator</c> decides how often an unknown
/// <c>kid</c> may ask for one. A refresh that returns no signing key is not taken (the last good one stays).
/// </summary>
internal static class IssuerMetadata
{
    /// <summary>The service key of the gateway's caller issuer's configuration manager.</summary>
    public const string CallerKey = "caller-issuer";

    /// <summary>The service key of the inference app's service issuer's configuration manager (the gateway's tokens).</summary>
    public const string ServiceKey = "service-issuer";

    /// <summary>The named HTTP client of metadata and key-set requests.</summary>
    public const string HttpClientName = "oidc-metadata";

    public static ConfigurationManager<OpenIdConnectConfiguration> Create(IHttpClientFactory clients, OidcIssuerOptions options)
    {
        ArgumentNullException.ThrowIfNull(clients);
        ArgumentNullException.ThrowIfNull(options);
        var http = clients.CreateClient(HttpClientName);
        http.Timeout = options.MetadataTimeout;
        var retriever = new HttpDocumentRetriever(http) { RequireHttps = options.RequireHttpsMetadata };
        return new ConfigurationManager<OpenIdConnectConfiguration>(
            options.ResolvedMetadataAddress!.AbsoluteUri,
            new OpenIdConnectConfigurationRetriever(),
            retriever,
            new OpenIdConnectConfigurationValidator())
        {
            AutomaticRefreshInterval = options.AutomaticRefreshInterval,
            RefreshInterval = ConfigurationManager<OpenIdConnectConfiguration>.MinimumRefreshInterval,
        };
    }
}
