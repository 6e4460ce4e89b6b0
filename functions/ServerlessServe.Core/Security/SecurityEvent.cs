namespace ServerlessServe.Core.Security;

/// <summary>
/// An alarm raised by a defense (extraction detection, a canary, a honey name or caller): one schema for every kind,
/// written to the audit trail (as a record of operation <c>security</c>) and to telemetry. Holds pseudonyms and
/// digests, never a raw caller id, a payload or a canary value.
/// </summary>
public sealed record SecurityEvent
{
    /// <summary>Made by the server (<see cref="NewId"/>); the audit record's request id.</summary>
    public required string Id { get; init; }

    public required DateTimeOffset Time { get; init; }

    /// <summary>What raised it: one of <see cref="SecurityEventKinds"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The caller's pseudonym (see <c>CallerPseudonymizer</c>), or <c>anonymous</c> when no caller is involved.</summary>
    public required string Caller { get; init; }

    public string? Model { get; init; }

    public string? ModelVersion { get; init; }

    /// <summary>The request that raised it, when one did.</summary>
    public string? RequestId { get; init; }

    /// <summary>
    /// Why, as short name/value pairs safe to store and show an operator (scores, thresholds, counts, a canary's id —
    /// never its value).
    /// </summary>
    public required IReadOnlyDictionary<string, string> Evidence { get; init; }

    /// <summary>What was done about it.</summary>
    public required ContainmentAction Action { get; init; }

    /// <summary>A new event id: <c>sev-</c> and 32 hex characters.</summary>
    public static string NewId() => "sev-" + Guid.NewGuid().ToString("N");
}
