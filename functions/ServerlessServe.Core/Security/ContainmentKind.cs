namespace ServerlessServe.Core.Security;

/// <summary>What a security event does to the caller or model version it names.</summary>
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
}
