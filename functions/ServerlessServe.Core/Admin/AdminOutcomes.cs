namespace ServerlessServe.Core.Admin;

/// <summary>The <c>outcome</c> of an admin audit record.</summary>
public static class AdminOutcomes
{
    /// <summary>A state-changing action about to be applied: committed before anything changes.</summary>
    public const string Requested = "requested";

    /// <summary>The action changed state (or a read answered).</summary>
    public const string Done = "done";

    /// <summary>The action was valid but changed nothing (e.g. restoring a version that was not quarantined).</summary>
    public const string NoChange = "no-change";

    /// <summary>The action failed after it was requested (storage unreachable): the state may or may not have changed.</summary>
    public const string Failed = "failed";

    /// <summary>The action was refused with a domain refusal: its verdict, e.g. <c>refused:forbidden</c>, <c>refused:invalid</c>.</summary>
    public static string Refused(Pipeline.Refusal refusal) => (refusal ?? throw new ArgumentNullException(nameof(refusal))).Verdict;
}
