namespace ServerlessServe.Core.Policy;

/// <summary>
/// Per-caller limits on one model (<c>limits</c> in <c>policy.json</c>), enforced on each gateway instance: a token
/// bucket of <see cref="RequestsPerSecond"/> holding at most <see cref="Burst"/> requests, and at most
/// <see cref="Concurrency"/> of the caller's requests to this model in flight. A value left out takes the gateway's
/// default (<c>ServerlessServe:Limits</c>).
/// </summary>
public sealed record LimitsPolicy
{
    /// <summary>Sustained requests per second per caller.</summary>
    public double? RequestsPerSecond { get; init; }

    /// <summary>Requests a caller may send at once after being idle (the bucket's size).</summary>
    public int? Burst { get; init; }

    /// <summary>The caller's requests to this model in flight at once.</summary>
    public int? Concurrency { get; init; }

    /// <summary>
    /// Input tensor elements a caller may send this model per UTC day, shared by every gateway instance (Azure Table
    /// storage, leased in slices); null: no daily budget.
    /// </summary>
    public long? DailyElements { get; init; }
}
