using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Identity;

/// <summary>
/// At start: logs which issuer an authenticator checks tokens against (and, as a warning, that its metadata travels
/// over plain HTTP, which options allow for a loopback issuer only), then fetches the metadata in the background so the
/// first request does not wait for it. Start is not held up: an issuer that cannot be reached yet is logged and retried
/// on the first request. One subclass per authenticator, so each app registers its own once.
/// </summary>
internal abstract class IssuerMetadataNotice(
    string authenticator,
    IConfigurationManager<OpenIdConnectConfiguration> metadata,
    OidcIssuerOptions options,
    ILogger logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var address = options.ResolvedMetadataAddress!;
        Log.Issuer(logger, authenticator, options.Authority!.AbsoluteUri, address.AbsoluteUri);
        if (!options.RequireHttpsMetadata)
        {
            Log.PlainHttpMetadata(logger, authenticator, address.Authority);
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
            Log.MetadataLoaded(logger, authenticator, configuration.SigningKeys.Count);
        }
        catch (InvalidOperationException ex)
        {
            Log.MetadataNotLoaded(logger, authenticator, ex);
        }
    }
}
