using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Admin;

/// <summary>
/// Who may use the admin plane: a caller token valid for the admin app's own audience (the app's
/// <see cref="CallerAuthenticator"/> is configured with it), not revoked, of a caller not blocked, that carries
/// <see cref="AdminRoles.Admin"/>. Revocations and blocks come from this instance's view of the containment table, as on
/// the gateway (fail closed until it has been read once). A refused token is logged and counted like the gateway's
/// (reason never told to the caller); a known caller's refusal is audited by the caller of this gate.
/// </summary>
public sealed class AdminGate(
    CallerAuthenticator authenticator,
    ContainmentRegistry containment,
    CallerPseudonymizer pseudonymizer,
    IOptions<ContainmentOptions> options,
    ILogger<AdminGate> logger)
{
    /// <summary>The one 403 of the admin plane.</summary>
    public static Refusal Denied { get; } = Refusal.Forbidden("the caller may not use the admin plane");

    /// <summary>
    /// The caller of a request with <paramref name="authorization"/> (an <c>Authorization</c> header value), and the
    /// refusal when it may not proceed: unauthenticated (no caller), unavailable (issuer metadata or the containment
    /// table unreadable), unauthenticated with a caller (a revoked token), or <see cref="Denied"/> (a blocked caller, a
    /// data-plane token — the gateway's audience, a sibling of this app's — or a caller without the role).
    /// </summary>
    public async Task<(CallerIdentity? Caller, Refusal? Refusal)> AdmitAsync(string requestId, string? authorization, CancellationToken cancellationToken)
    {
        var verdict = await authenticator.AuthenticateAsync(authorization, cancellationToken).ConfigureAwait(false);
        if (verdict.Caller is not { } caller)
        {
            IdentityTelemetry.Refused(logger, requestId, authenticator.Name, verdict.Failure);
            return (null, verdict.Failure == TokenFailure.MetadataUnavailable ? Refusal.IssuerUnavailable : Refusal.InvalidToken);
        }

        if (!await containment.IsCurrentAsync(options.Value, cancellationToken).ConfigureAwait(false))
        {
            return (null, Refusal.Unavailable("service unavailable"));
        }

        var standing = containment.Standing(pseudonymizer.Pseudonymize(caller.Subject));
        if (standing.IsRevoked(caller.IssuedAt) || containment.IsTokenRevoked(caller.TokenId))
        {
            IdentityTelemetry.Refused(logger, requestId, authenticator.Name, TokenFailure.Revoked);
            return (caller, Refusal.InvalidToken);
        }

        return !standing.Blocked && !caller.SiblingAudience && caller.Roles.Contains(AdminRoles.Admin, StringComparer.Ordinal) ? (caller, null) : (caller, Denied);
    }

    /// <summary>True when <paramref name="model"/> and <paramref name="version"/> are a valid model name and version.</summary>
    public static bool IsValidModelVersion(string? model, string? version) => ModelNames.IsValidName(model) && ModelNames.IsValidVersion(version);
}
