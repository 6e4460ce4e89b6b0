using System.Globalization;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Turns newly raised extraction signals into one <see cref="SecurityEvent"/> (kind <see cref="SecurityEventKinds.Extraction"/>)
/// and raises it: with no action in shadow mode, the policy's action in enforce mode. Raising never throws: an alarm
/// that cannot be raised is logged, and whatever raised it (a request, a merge of states) goes on.
/// </summary>
public sealed class ExtractionAlarms
{
    private readonly ISecurityEvents _events;
    private readonly TimeProvider _time;
    private readonly ILogger<ExtractionAlarms> _logger;

    /// <summary>Alarms raised through <paramref name="events"/>.</summary>
    public ExtractionAlarms(TimeProvider time, ILogger<ExtractionAlarms> logger, ISecurityEvents events)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(events);
        _events = events;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// The security event for <paramref name="signals"/> newly raised for <paramref name="key"/>, with
    /// <paramref name="verdict"/>'s figures as evidence: <c>signals</c> (the new ones), <c>raisedEver</c>, <c>w</c>
    /// (absent before the first test), <c>delta</c>, <c>queries</c>, <c>volume</c>, <c>volumeLimit</c>,
    /// <c>coverage</c> (absent before the first epoch), <c>coverageThreshold</c>, <c>distances</c>, <c>oodShare</c> (the
    /// share of the screened rows in the window that the OOD screen flagged; absent before the minimum is held),
    /// <c>oodThreshold</c> and <c>screened</c> (rows in that window).
    /// </summary>
    public SecurityEvent Create(ExtractionKey key, ExtractionSubject subject, string? requestId, ExtractionSignals signals, ExtractionVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(verdict);
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["signals"] = ExtractionSignalNames.Format(signals),
            ["raisedEver"] = ExtractionSignalNames.Format(verdict.RaisedEver),
            ["delta"] = Number(verdict.Delta),
            ["queries"] = verdict.Query.ToString(CultureInfo.InvariantCulture),
            ["volume"] = verdict.VolumeCount.ToString(CultureInfo.InvariantCulture),
            ["volumeLimit"] = verdict.VolumeLimit.ToString(CultureInfo.InvariantCulture),
            ["coverageThreshold"] = Number(verdict.CoverageThreshold),
            ["distances"] = verdict.Distances.ToString(CultureInfo.InvariantCulture),
            ["oodThreshold"] = Number(verdict.OutOfDistributionThreshold),
            ["screened"] = verdict.Screened.ToString(CultureInfo.InvariantCulture),
        };
        if (verdict.W is { } w)
        {
            evidence["w"] = Number(w);
        }

        if (verdict.Coverage is { } coverage)
        {
            evidence["coverage"] = Number(coverage);
        }

        if (verdict.OutOfDistributionShare is { } share)
        {
            evidence["oodShare"] = Number(share);
        }

        return new SecurityEvent
        {
            Id = SecurityEvent.NewId(),
            Time = _time.GetUtcNow(),
            Kind = SecurityEventKinds.Extraction,
            Caller = key.Caller,
            Model = key.Model,
            ModelVersion = subject.ModelVersion,
            RequestId = requestId,
            Evidence = evidence,
            Action = ActionOf(subject.Policy),
        };
    }

    /// <summary>The containment an alarm under <paramref name="policy"/> asks for: its action in enforce mode, none in shadow mode.</summary>
    public static ContainmentAction ActionOf(ExtractionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Mode == DefenseMode.Enforce ? policy.Action.ToContainment() : ContainmentAction.None;
    }

    /// <summary>
    /// Raises the event of <see cref="Create"/>. Returns it, raised or not: a failure of the security event service is
    /// logged, never thrown (the containment still applies when only its audit record failed, per
    /// <see cref="ISecurityEvents.RaiseAsync"/>).
    /// </summary>
    public async ValueTask<SecurityEvent> RaiseAsync(
        ExtractionKey key, ExtractionSubject subject, string? requestId, ExtractionSignals signals, ExtractionVerdict verdict, CancellationToken cancellationToken)
    {
        var securityEvent = Create(key, subject, requestId, signals, verdict);
        Log.AlarmRaised(_logger, securityEvent.Id, key.Caller, key.Model, securityEvent.Evidence["signals"], securityEvent.Action.Name);
        try
        {
            await _events.RaiseAsync(securityEvent, cancellationToken).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // An alarm that cannot be raised must not fail what raised it; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.AlarmFailed(_logger, ex, securityEvent.Id);
        }

        return securityEvent;
    }

    private static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
