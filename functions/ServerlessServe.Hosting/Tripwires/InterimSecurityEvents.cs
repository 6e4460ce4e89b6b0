using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>
/// INTERIM, to be removed when the real <see cref="ISecurityEvents"/> (containment, audit trail, telemetry) is merged:
/// writes each event to the log (kind, id, caller pseudonym, model, request, action, evidence; never a canary value)
/// and applies no containment, so the gateway starts and its tripwires can be exercised before then.
/// </summary>
internal sealed partial class InterimSecurityEvents(ILogger<InterimSecurityEvents> logger) : ISecurityEvents
{
    public ValueTask RaiseAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(securityEvent);
        LogRaised(
            logger,
            securityEvent.Kind,
            securityEvent.Id,
            securityEvent.Caller,
            securityEvent.Model ?? "-",
            securityEvent.RequestId ?? "-",
            securityEvent.Action.Name,
            string.Join(' ', securityEvent.Evidence.Select(e => $"{e.Key}={e.Value}")));
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 1199, Level = LogLevel.Warning, Message = "Security event {Kind} {EventId}: caller {Caller}, model {Model}, request {RequestId}, action {Action} (not applied), evidence {Evidence}")]
    private static partial void LogRaised(ILogger logger, string kind, string eventId, string caller, string model, string requestId, string action, string evidence);
}
