using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Egress;

/// <summary>
/// Refuses every outbound HTTP request whose authority is not on the allow-list. Added to every client the
/// <c>IHttpClientFactory</c> builds, and to the Azure SDK transport.
/// </summary>
internal sealed class EgressAllowListHandler : DelegatingHandler
{
    private readonly EgressAllowList _allowList;
    private readonly ILogger<EgressAllowListHandler> _logger;

    public EgressAllowListHandler(EgressAllowList allowList, ILogger<EgressAllowListHandler> logger)
    {
        _allowList = allowList;
        _logger = logger;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestUri is not { } uri || !_allowList.Allows(uri))
        {
            Log.EgressDenied(_logger, request.RequestUri?.Host ?? "(none)");
            throw new EgressDeniedException();
        }

        return base.SendAsync(request, cancellationToken);
    }
}
