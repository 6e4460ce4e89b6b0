using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Policy;

/// <summary>
/// The containment an extraction alarm asks for in enforce mode (<c>defenses.extraction.action</c>): the kind
/// (<c>throttle</c>, <c>block</c> or <c>none</c>), how long it lasts (an ISO 8601 duration such as <c>PT1H</c>; absent:
/// until lifted with <c>ssctl</c>) and, for a throttle, the requests per minute the caller keeps.
/// </summary>
public sealed record ExtractionAction
{
    /// <summary>The action when the policy names none: block the caller for one hour.</summary>
    public static ExtractionAction Default { get; } = new() { Kind = ContainmentKind.Block, Duration = TimeSpan.FromHours(1) };

    /// <summary>Longest duration a policy may set: 365 days.</summary>
    public static TimeSpan MaxDuration { get; } = TimeSpan.FromDays(365);

    /// <summary><see cref="ContainmentKind.Throttle"/>, <see cref="ContainmentKind.Block"/> or <see cref="ContainmentKind.None"/>.</summary>
    public required ContainmentKind Kind { get; init; }

    /// <summary>How long the containment lasts; null: until lifted.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Requests per minute a throttled caller keeps (throttle only).</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>The containment this action asks for.</summary>
    public ContainmentAction ToContainment() =>
        Kind == ContainmentKind.None ? ContainmentAction.None : new ContainmentAction(Kind, Duration, RequestsPerMinute);
}
