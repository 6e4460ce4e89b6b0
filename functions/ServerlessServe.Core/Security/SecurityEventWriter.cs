using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Security;

/// <summary>
/// Raises security events: puts the action in force (<see cref="ContainmentRegistry"/>: here at once, everywhere within
/// a refresh), appends the event to the audit trail as a record of operation <c>security</c>, and emits it as telemetry
/// (a warning log line with event id 6000, the <c>serverlessserve.security.events</c> counter tagged by kind and
/// action, and an event on the current span).
/// </summary>
public sealed class SecurityEventWriter : ISecurityEvents
{
    private static readonly Counter<long> Events = PipelineTelemetry.Meter.CreateCounter<long>(
        "serverlessserve.security.events", description: "Security events raised, by kind and containment action.");

    private readonly ContainmentRegistry _registry;
    private readonly IAuditSink _audit;
    private readonly ILogger _logger;

    public SecurityEventWriter(ContainmentRegistry registry, IAuditSink audit, ILogger<SecurityEventWriter> logger)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _audit = audit ?? throw new ArgumentNullException(nameof(audit));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <inheritdoc />
    public async ValueTask RaiseAsync(SecurityEvent securityEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(securityEvent);
        var action = securityEvent.Action;
        DateTimeOffset? until = action.Duration is { } duration ? securityEvent.Time + duration : null;
        int? rate = action.Kind == ContainmentKind.Throttle ? Math.Max(1, action.RequestsPerMinute ?? 60) : null;
        var applied = ContainmentFor(securityEvent, until, rate);
        if (action.Kind != ContainmentKind.None && applied is null)
        {
            action = ContainmentAction.None;
            until = null;
            rate = null;
        }

        var evidence = string.Join(", ", securityEvent.Evidence.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Key + "=" + e.Value));
        Log.SecurityEvent(_logger, securityEvent.Id, securityEvent.Kind, securityEvent.Caller, securityEvent.Model, securityEvent.ModelVersion, action.Name, until, evidence);
        Events.Add(1, new KeyValuePair<string, object?>("kind", securityEvent.Kind), new KeyValuePair<string, object?>("action", action.Name));
        Activity.Current?.AddEvent(new ActivityEvent("security_event", tags: new ActivityTagsCollection
        {
            ["security.event_id"] = securityEvent.Id,
            ["security.kind"] = securityEvent.Kind,
            ["security.action"] = action.Name,
        }));

        if (applied is not null)
        {
            try
            {
                await _registry.ApplyAsync(applied, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ContainmentWriteFailed(_logger, ex, securityEvent.Id, _registry.TableName);
            }
        }

        var record = new AuditEvent
        {
            Time = securityEvent.Time,
            RequestId = securityEvent.Id,
            Caller = securityEvent.Caller,
            Operation = AuditEvent.SecurityOperation,
            Model = securityEvent.Model,
            ModelVersion = securityEvent.ModelVersion,
            Stages = new Dictionary<string, string>(),
            Security = new AuditSecurity(securityEvent.Kind, action.Name, WithRequest(securityEvent), until, rate),
            Outcome = action.Name,
            LatencyMs = 0,
        };
        try
        {
            await _audit.AppendAsync(record, cancellationToken).ConfigureAwait(false);
        }
        catch (AuditUnavailableException ex)
        {
            Log.SecurityAuditFailed(_logger, ex, securityEvent.Id);
            throw;
        }
    }

    private ContainmentEntry? ContainmentFor(SecurityEvent securityEvent, DateTimeOffset? until, int? rate)
    {
        switch (securityEvent.Action.Kind)
        {
            case ContainmentKind.Throttle or ContainmentKind.Block:
                if (securityEvent.Caller == CallerPseudonymizer.Anonymous)
                {
                    Log.ActionWithoutSubject(_logger, securityEvent.Id, securityEvent.Action.Name, "caller");
                    return null;
                }

                return new ContainmentEntry(securityEvent.Action.Kind, securityEvent.Caller, until, rate, securityEvent.Kind, securityEvent.Id, securityEvent.Time);
            case ContainmentKind.Quarantine:
                if (securityEvent.Model is not { } model || securityEvent.ModelVersion is not { } version)
                {
                    Log.ActionWithoutSubject(_logger, securityEvent.Id, securityEvent.Action.Name, "model version");
                    return null;
                }

                return new ContainmentEntry(ContainmentKind.Quarantine, ContainmentEntry.ModelSubject(model, version), until, null, securityEvent.Kind, securityEvent.Id, securityEvent.Time);
            default:
                return null;
        }
    }

    private static Dictionary<string, string> WithRequest(SecurityEvent securityEvent)
    {
        var evidence = new Dictionary<string, string>(securityEvent.Evidence, StringComparer.Ordinal);
        if (securityEvent.RequestId is { } requestId)
        {
            evidence.TryAdd("requestId", requestId);
        }

        return evidence;
    }

    /// <summary>Formats a number for evidence: invariant culture, at most 6 decimals.</summary>
    public static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
