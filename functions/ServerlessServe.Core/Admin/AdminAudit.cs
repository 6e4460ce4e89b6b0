using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Core.Admin;

/// <summary>
/// Writes the audit records of the admin plane: records of operation <c>security</c>, kind <c>admin</c>, action the
/// admin action, outcome one of <see cref="AdminOutcomes"/>, the admin's pseudonym as the caller and the target as
/// evidence. A state-changing action is recorded twice under one request id: <c>requested</c> before anything changes
/// (no record, no action) and its result after. Each call returns once the record is committed.
/// </summary>
public sealed class AdminAudit(IAuditSink sink, CallerPseudonymizer pseudonymizer, TimeProvider time, ILogger<AdminAudit> logger)
{
    /// <summary>The admin's pseudonym, as the records name it.</summary>
    public string Pseudonym(AdminRequest request) => pseudonymizer.Pseudonymize((request ?? throw new ArgumentNullException(nameof(request))).Admin.Subject);

    /// <summary>
    /// Commits a record of <paramref name="request"/> with <paramref name="outcome"/>; false (logged) when the audit log
    /// cannot take it. Not cancellable: once an admin action has begun, its records are written whatever the client does.
    /// </summary>
    public async Task<bool> TryRecordAsync(AdminRequest request, string outcome)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(outcome);
        var admin = Pseudonym(request);
        var record = new AuditEvent
        {
            Time = time.GetUtcNow(),
            RequestId = request.RequestId,
            Caller = admin,
            Operation = AuditEvent.SecurityOperation,
            Model = request.Model,
            ModelVersion = request.ModelVersion,
            ManifestDigest = request.ManifestDigest,
            Stages = new Dictionary<string, string>(),
            Security = new AuditSecurity(AdminActions.Kind, request.Action, request.Target),
            Outcome = outcome,
            LatencyMs = 0,
        };
        try
        {
            await sink.AppendAsync(record, CancellationToken.None).ConfigureAwait(false);
        }
        catch (AuditUnavailableException ex)
        {
            Log.AdminAuditFailed(logger, ex, request.RequestId, request.Action, outcome);
            return false;
        }

        Log.AdminAction(logger, request.RequestId, request.Action, admin, request.Model, request.ModelVersion, outcome);
        return true;
    }
}
