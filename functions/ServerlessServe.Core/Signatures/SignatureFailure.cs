namespace ServerlessServe.Core.Signatures;

/// <summary>Why a request signature was refused. Callers see one uniform 401; the name goes to logs, metrics and the audit record.</summary>
public enum SignatureFailure
{
    /// <summary>Passed.</summary>
    None,

    /// <summary>No <c>Signature-Input</c>, <c>Signature</c> or <c>Content-Digest</c> header (<c>signature_missing</c>).</summary>
    Missing,

    /// <summary>
    /// A header that does not parse strictly, more than one signature, a component or parameter this gateway does not
    /// take, another algorithm, or a signature that does not verify (<c>signature_invalid</c>).
    /// </summary>
    Invalid,

    /// <summary><c>Content-Digest</c> has no <c>sha-256</c>, or a digest that does not match the body (<c>digest_mismatch</c>).</summary>
    DigestMismatch,

    /// <summary><c>created</c> older than the policy's window, ahead of the clock by more than the skew, or <c>expires</c> passed (<c>stale</c>).</summary>
    Stale,

    /// <summary>The nonce was seen before within its window (<c>replay</c>).</summary>
    Replay,

    /// <summary>No unexpired request-signing key with that key id is registered for this caller (<c>unknown_key</c>).</summary>
    UnknownKey,
}
