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

    /// <summary>Every version a signing key signed stops serving.</summary>
    public const string RevokeSigner = "revoke-signer";

    /// <summary>One token, by its id, is refused.</summary>
    public const string RevokeToken = "revoke-token";

    /// <summary>Every token issued to a caller up to now is refused.</summary>
    public const string RevokeCaller = "revoke-caller";

    /// <summary>A caller's request-signing public key is registered (signed requests).</summary>
    public const string RegisterRequestKey = "register-request-key";

    /// <summary>A caller's request-signing key is removed: requests signed with it are refused.</summary>
    public const string RevokeRequestKey = "revoke-request-key";

    /// <summary>A model's next signed lifecycle document is stored (deprecate, retire, default).</summary>
    public const string PublishLifecycle = "publish-lifecycle";

    /// <summary>The next signed revocation list is stored.</summary>
    public const string PublishRevocations = "publish-revocations";

    public const string ReadSecurityEvents = "read-security-events";

    public const string ReadCheckpoints = "read-checkpoints";

    /// <summary>The <c>security.kind</c> of every admin record.</summary>
    public const string Kind = "admin";
}
