using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>
/// At start: logs which issuer callers are checked against (and, as a warning, that its metadata travels over plain
/// HTTP, which options allow for a loopback issuer only), then fetches the metadata in the background so the first
/// caller does not wait for it. Start is not held up: an issuer that cannot be reached yet is logged and retried on
/// the first request.
/// </summary>
internal sealed class CallerIssuerNotice(
    [FromKeyedServices(CallerIssuerMetadata.ServiceKey)] IConfigurationManager<OpenIdConnectConfiguration> metadata,
    IOptions<CallerAuthOptions> options,
    ILogger<CallerIssuerNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var value = options.Value;
        var address = value.ResolvedMetadataAddress!;
        Log.CallerIssuer(logger, value.Authority!.AbsoluteUri, address.AbsoluteUri);
        if (!value.RequireHttpsMetadata)
        {
            Log.PlainHttpMetadata(logger, address.Authority);
        }

        _ = Task.Run(FetchAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task FetchAsync()
    {
        try
        {
            var configuration = await metadata.GetConfigurationAsync(CancellationToken.None).ConfigureAwait(false);
            Log.MetadataLoaded(logger, configuration.SigningKeys.Count);
        }
        catch (InvalidOperationException ex)
        {
            Log.MetadataNotLoaded(logger, ex);
        }
    }
}
