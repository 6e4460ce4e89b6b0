using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Hosting.Identity;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// Whether the gateway can serve (<c>GET /api/v2/health/ready</c>): every part a request fails closed without is
/// there — the containment view and the signed revocation list and lifecycle documents have been read once (else
/// requests wait, then 503), the caller issuer's metadata and
/// keys are loaded (else 503 for every token), and the inference app answers ready. A load balancer or <c>ssctl up</c>
/// that waits for ready therefore never sends the first callers into those 503s.
/// </summary>
public sealed class GatewayReadiness(
    IInferenceBackend backend,
    ContainmentRegistry containment,
    ServingControl servingControl,
    [FromKeyedServices(IssuerMetadata.CallerKey)] IConfigurationManager<OpenIdConnectConfiguration> issuer)
{
    /// <summary>How long the issuer's metadata may take to load when it has not been loaded yet.</summary>
    private static readonly TimeSpan IssuerWait = TimeSpan.FromSeconds(2);

    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (!containment.IsReady || !servingControl.IsReady)
        {
            return false;
        }

        try
        {
            // Answered from memory once loaded; the first time, one fetch (the same the first request would make).
            await issuer.GetConfigurationAsync(cancellationToken).WaitAsync(IssuerWait, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or HttpRequestException)
        {
            return false;
        }

        return await backend.IsReadyAsync(cancellationToken).ConfigureAwait(false);
    }
}
