using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>The gateway's notice of its caller issuer (<see cref="IssuerMetadataNotice"/>).</summary>
internal sealed class CallerIssuerNotice(
    [FromKeyedServices(IssuerMetadata.CallerKey)] IConfigurationManager<OpenIdConnectConfiguration> metadata,
    IOptions<CallerAuthOptions> options,
    ILogger<CallerIssuerNotice> logger) : IssuerMetadataNotice("caller", metadata, options.Value, logger);
