using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Admin;

/// <summary>
/// Who may use the admin plane: a caller token valid for the admin app's own audience (the app's
/// <see cref="CallerAuthenticator"/> is configured with it) that carries <see cref="AdminRoles.Admin"/>. A refused
/// token is logged and counted like the gateway's (reason never told to the caller); a caller without the role is
/// known, and its refusal is audited by the caller of this gate.
/// </summary>
public sealed class AdminGate(CallerAuthenticator authenticator, ILogger<AdminGate> logger)
{
    /// <summary>The one 403 of the admin plane.</summary>
    public static Refusal Denied { get; } = Refusal.Forbidden("the caller may not use the admin plane");

    /// <summary>
    /// The caller of a request with <paramref name="authorization"/> (an <c>Authorization</c> header value), and the
    /// refusal when it may not proceed: unauthenticated (no caller), unavailable (issuer metadata unreadable; no caller) or
    /// <see cref="Denied"/> (a caller without the role).
    /// </summary>
    public async Task<(CallerIdentity? Caller, Refusal? Refusal)> AdmitAsync(string requestId, string? authorization, CancellationToken cancellationToken)
    {
        var verdict = await authenticator.AuthenticateAsync(authorization, cancellationToken).ConfigureAwait(false);
        if (verdict.Caller is not { } caller)
        {
            IdentityTelemetry.Refused(logger, requestId, authenticator.Name, verdict.Failure);
            return (null, verdict.Failure == TokenFailure.MetadataUnavailable ? Refusal.IssuerUnavailable : Refusal.InvalidToken);
        }

        return caller.Roles.Contains(AdminRoles.Admin, StringComparer.Ordinal) ? (caller, null) : (caller, Denied);
    }

    /// <summary>True when <paramref name="model"/> and <paramref name="version"/> are a valid model name and version.</summary>
    public static bool IsValidModelVersion(string? model, string? version) => ModelNames.IsValidName(model) && ModelNames.IsValidVersion(version);
}
