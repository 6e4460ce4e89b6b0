namespace ServerlessServe.Core.Security;

/// <summary>
/// A containment decision: its kind, how long it lasts (null: until lifted with <c>ssctl</c>) and, for a throttle, the
/// requests per minute allowed.
/// </summary>
public sealed record ContainmentAction(ContainmentKind Kind, TimeSpan? Duration = null, int? RequestsPerMinute = null)
{
    /// <summary>Recorded only.</summary>
    public static ContainmentAction None { get; } = new(ContainmentKind.None);

    /// <summary>The action's name in the audit trail and telemetry: <c>none</c>, <c>throttle</c>, <c>block</c>, <c>quarantine</c>, <c>revoke-token</c>, <c>revoke-caller</c>, <c>revoke-signer</c>.</summary>
    public string Name => Kind switch
    {
        ContainmentKind.Throttle => "throttle",
        ContainmentKind.Block => "block",
        ContainmentKind.Quarantine => "quarantine",
        ContainmentKind.RevokeToken => "revoke-token",
        ContainmentKind.RevokeCaller => "revoke-caller",
        ContainmentKind.RevokeSigner => "revoke-signer",
        _ => "none",
    };
}
