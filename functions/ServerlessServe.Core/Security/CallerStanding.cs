namespace ServerlessServe.Core.Security;

/// <summary>What the containment in force says about one caller.</summary>
/// <param name="Blocked">The caller is refused.</param>
/// <param name="RequestsPerMinute">The caller is throttled to this rate (per instance); null when not throttled.</param>
public readonly record struct CallerStanding(bool Blocked, int? RequestsPerMinute)
{
    /// <summary>Nothing in force.</summary>
    public static CallerStanding Clear => default;
}
