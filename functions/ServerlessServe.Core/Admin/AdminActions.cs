namespace ServerlessServe.Core.Admin;

/// <summary>The admin plane's actions, as audit records name them (<c>security.action</c> of a record of kind <c>admin</c>).</summary>
public static class AdminActions
{
    public const string ListModels = "list-models";

    public const string Publish = "publish";

    public const string Quarantine = "quarantine";

    public const string Restore = "restore";

    public const string Block = "block";

    public const string Unblock = "unblock";

    public const string ReadSecurityEvents = "read-security-events";

    public const string ReadCheckpoints = "read-checkpoints";

    /// <summary>The <c>security.kind</c> of every admin record.</summary>
    public const string Kind = "admin";
}
