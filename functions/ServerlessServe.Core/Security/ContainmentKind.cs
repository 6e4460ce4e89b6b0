namespace ServerlessServe.Core.Security;

/// <summary>What a security event or an operator does to the caller, token, model version or signing key it names.</summary>
public enum ContainmentKind
{
    /// <summary>Recorded only.</summary>
    None,

    /// <summary>The caller is held to a request rate for a period (429 above it).</summary>
    Throttle,

    /// <summary>The caller is refused for a period (the same 403 as any refusal).</summary>
    Block,

    /// <summary>The model version is no longer served; the previous good version serves "latest".</summary>
    Quarantine,

    /// <summary>One bearer token, by its id (<c>jti</c>, or Entra ID's <c>uti</c>), is refused (401) until it would have expired.</summary>
    RevokeToken,

    /// <summary>
    /// Every token issued to a caller (by pseudonym) at or before the revocation is refused (401); tokens issued later are
    /// accepted. Lasts as long as the longest token lifetime accepted, after which every earlier token has expired anyway.
    /// </summary>
    RevokeCaller,

    /// <summary>A model signing key, by key id: every version it signed stops serving ("latest" falls back to another signer's).</summary>
    RevokeSigner,
}
