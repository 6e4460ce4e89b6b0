using System.Buffers;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Security;

/// <summary>
/// What an operator's containment may name, and for how long. Anything else would contain nothing while reporting it
/// set: a pseudonym in upper case or cut short matches no caller, a token id with a character the table's keys refuse
/// cannot be stored, and a duration of zero or less ends before it begins, while replacing (and so lifting) the entry
/// of the same kind and subject that was in force. The admin plane, <c>ssctl contain</c> and <see cref="OperatorContainment"/>
/// all check with these.
/// </summary>
public static class ContainmentSubjects
{
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    /// <summary>Shortest containment an operator may set.</summary>
    public static TimeSpan MinDuration { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest containment with an end an operator may set (longer: until lifted).</summary>
    public static TimeSpan MaxDuration { get; } = TimeSpan.FromDays(365);

    /// <summary>A caller pseudonym: 32 lower-case hex characters (<see cref="Audit.CallerPseudonymizer"/>).</summary>
    public static bool IsPseudonym(string? value) => value is { Length: 32 } && !value.AsSpan().ContainsAnyExcept(LowerHex);

    /// <summary>A token id: 1 to 256 visible ASCII characters, none the containment table's keys refuse.</summary>
    public static bool IsTokenId(string? value) =>
        value is { Length: >= 1 and <= 256 } && value.All(c => c is > ' ' and < (char)127 and not ('\\' or '#' or '?' or '~' or '/'));

    /// <summary>A duration an operator may give: from <see cref="MinDuration"/> to <see cref="MaxDuration"/>.</summary>
    public static bool IsDuration(TimeSpan value) => value >= MinDuration && value <= MaxDuration;

    /// <summary>Why <paramref name="kind"/> on <paramref name="subject"/> for <paramref name="duration"/> would contain nothing, or null.</summary>
    public static string? Problem(ContainmentKind kind, string? subject, TimeSpan? duration)
    {
        if (duration is { } d && !IsDuration(d))
        {
            return "a duration must be between 1 second and 365 days";
        }

        return kind switch
        {
            ContainmentKind.Throttle or ContainmentKind.Block or ContainmentKind.RevokeCaller when !IsPseudonym(subject) =>
                "a caller's pseudonym is 32 lower-case hex digits, as security events and audit records name it",
            ContainmentKind.RevokeToken when !IsTokenId(subject) =>
                "a token id is 1 to 256 visible ASCII characters, none of \\ # ? ~ /",
            ContainmentKind.RevokeSigner when !KeyIds.IsWellFormed(subject) =>
                "a signing key id is 32 hex digits (a manifest's signerKeyId)",
            ContainmentKind.Quarantine when !IsModelSubject(subject) =>
                "a quarantine names a model and version as the store names them",
            ContainmentKind.None => "not a containment",
            _ => null,
        };
    }

    private static bool IsModelSubject(string? subject) =>
        subject?.Split('/') is [var model, var version] && ModelNames.IsValidName(model) && ModelNames.IsValidVersion(version);
}
