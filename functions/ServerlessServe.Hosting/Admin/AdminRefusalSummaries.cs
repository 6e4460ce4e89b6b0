using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Hosting.Audit;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Hosting.Admin;

/// <summary>
/// The admin gate's refusals of authenticated callers, summarised as the gateway's 429s are: a caller's first refusal by
/// each reason in each <see cref="AdminOptions.RefusalSummaryInterval"/> is audited one by one, its further ones are
/// counted (never those of a token of the admin app's own audience with the admin role: each keeps its record), and every
/// interval one security record of kind <c>admin-refusals</c> per caller with any is written (caller = its pseudonym,
/// evidence = the count by reason and the interval). A summary that cannot be written is folded into the next; the last
/// is written at shutdown.
/// </summary>
internal sealed class AdminRefusalSummaries(
    [Microsoft.Extensions.DependencyInjection.FromKeyedServices(AdminRefusalSummaries.TallyKey)] RateLimitRefusalTally tally,
    ISecurityEvents securityEvents,
    IOptions<AdminOptions> options,
    TimeProvider time,
    ILogger<AdminRefusalSummaries> logger) : PeriodicSummaries(time)
{
    /// <summary>The key of the admin plane's <see cref="RateLimitRefusalTally"/> among the services.</summary>
    public const string TallyKey = "admin-refusals";

    /// <summary>A token without the admin role, of a blocked caller, or for the gateway: the gate's 403.</summary>
    public const string Denied = "admin-denied";

    /// <summary>A revoked token, or one issued before its caller's revocation: the gate's 401.</summary>
    public const string Revoked = "admin-revoked";

    /// <summary>The reasons counted.</summary>
    public static IReadOnlyList<string> Stages { get; } = [Denied, Revoked];

    protected override TimeSpan Interval => options.Value.RefusalSummaryInterval;

    protected override bool Enabled => tally.Enabled;

    protected override void OnDisabled() => Log.EveryAdminRefusalAudited(logger);

    protected override Task WriteSummariesAsync(CancellationToken cancellationToken) => WriteAsync(cancellationToken);

    /// <summary>Ends the interval and writes one summary per caller counted in it; returns how many were written.</summary>
    internal Task<int> WriteAsync(CancellationToken cancellationToken) => WriteTallyAsync(
        tally, securityEvents, SecurityEventKinds.AdminRefusals, (count, ex) => Log.AdminRefusalSummaryNotWritten(logger, count, ex), cancellationToken);
}
