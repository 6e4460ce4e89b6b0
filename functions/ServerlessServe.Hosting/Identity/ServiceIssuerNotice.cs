using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>The inference app's notice of the issuer of the gateway's tokens (<see cref="IssuerMetadataNotice"/>).</summary>
internal sealed class ServiceIssuerNotice(
    [FromKeyedServices(IssuerMetadata.ServiceKey)] IConfigurationManager<OpenIdConnectConfiguration> metadata,
    IOptions<ServiceAuthOptions> options,
    ILogger<ServiceIssuerNotice> logger) : IssuerMetadataNotice("service", metadata, options.Value, logger);
