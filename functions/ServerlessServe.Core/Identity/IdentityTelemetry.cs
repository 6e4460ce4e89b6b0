using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Identity;

/// <summary>Logs and metrics of authentication: refusals by reason, and metadata refreshes. Tags hold names only, never token content.</summary>
internal static class IdentityTelemetry
{
    private static readonly Counter<long> Refusals = PipelineTelemetry.Meter.CreateCounter<long>(
        "serverlessserve.auth.refusals", description: "Bearer tokens refused, by authenticator and reason (callers see one uniform 401).");

    private static readonly Counter<long> Refreshes = PipelineTelemetry.Meter.CreateCounter<long>(
        "serverlessserve.auth.metadata_refreshes", description: "Issuer metadata refreshes asked for by tokens with an unknown key id, by outcome.");

    /// <summary>Logs and counts a refused token of request <paramref name="requestId"/>: the reason's name, nothing of the token.</summary>
    public static void Refused(ILogger logger, string requestId, string authenticator, TokenFailure failure)
    {
        var reason = TokenFailureNames.Of(failure);
        Log.TokenRefused(logger, requestId, authenticator, reason);
        Refusals.Add(1, new KeyValuePair<string, object?>("authenticator", authenticator), new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Counts a refused request signature under the authenticator <c>signature</c> (the stage logs it).</summary>
    public static void SignatureRefused(string reason) =>
        Refusals.Add(1, new KeyValuePair<string, object?>("authenticator", "signature"), new KeyValuePair<string, object?>("reason", reason));

    public static void RecordRefresh(string outcome) =>
        Refreshes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
