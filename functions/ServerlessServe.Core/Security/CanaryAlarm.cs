using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Core.Security;

/// <summary>
/// Turns a tripwire hit into a <see cref="SecurityEvent"/> and raises it. The event names the request it happened for
/// (its id, the caller's pseudonym, the model as resolved or as the route named it, when that is a valid name) and carries the configured
/// <see cref="Canaries.Action"/> when it names a caller; with no caller (a log line or an outbound call outside any
/// request) it is recorded only; a canary in a released output quarantines the version instead when
/// <see cref="Canaries.QuarantineOnOutput"/> is set. Evidence holds canary ids, never values.
/// </summary>
public sealed class CanaryAlarm(Canaries canaries, CallerPseudonymizer pseudonymizer, ISecurityEvents events, TimeProvider time, ILogger<CanaryAlarm> logger)
{
    public Canaries Canaries => canaries;

    /// <summary>The event of kind <paramref name="kind"/> for <paramref name="request"/> (null: none), detected at <paramref name="detected"/> (default now).</summary>
    public SecurityEvent Create(string kind, RequestContext? request, IReadOnlyDictionary<string, string> evidence, DateTimeOffset? detected = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(evidence);
        var model = request as ModelRequestContext;
        var subject = model?.Caller?.Subject;
        // The route's model and version only when they are names the store could hold: the honey stages run before
        // resolve has checked them, and an event's model and version go into log 6000 and the audit trail, where caller
        // text (an e-mail address, a line break forging a log line) must never go (review, 2026-12-07).
        var routeModel = ModelNames.IsValidName(model?.ModelName) ? model!.ModelName : null;
        var routeVersion = ModelNames.IsValidVersion(model?.RequestedVersion) ? model!.RequestedVersion : null;
        var version = model?.Model?.Manifest.Version ?? routeVersion;
        var action = string.IsNullOrEmpty(subject) ? ContainmentAction.None : canaries.Action;
        if (kind == SecurityEventKinds.CanaryOutput && canaries.QuarantineOnOutput && version is not null)
        {
            action = new ContainmentAction(ContainmentKind.Quarantine);
        }

        return new SecurityEvent
        {
            Id = SecurityEvent.NewId(),
            Time = detected ?? time.GetUtcNow(),
            Kind = kind,
            Caller = pseudonymizer.Pseudonymize(subject),
            Model = model?.Model?.Manifest.Name ?? routeModel,
            ModelVersion = version,
            RequestId = request?.RequestId,
            Evidence = evidence,
            Action = action,
        };
    }

    /// <summary>
    /// Raises <paramref name="securityEvent"/>: true once its audit record is committed; false (logged) when the audit
    /// trail cannot take it now, in which case its containment still applies (<see cref="ISecurityEvents"/>). Not
    /// cancelled when the caller goes away: the alarm is about that caller.
    /// </summary>
    public async ValueTask<bool> RaiseAsync(SecurityEvent securityEvent)
    {
        ArgumentNullException.ThrowIfNull(securityEvent);
        try
        {
            await events.RaiseAsync(securityEvent, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (AuditUnavailableException)
        {
            Log.AlarmNotRecorded(logger, securityEvent.Id, securityEvent.Kind);
            return false;
        }
    }
}
