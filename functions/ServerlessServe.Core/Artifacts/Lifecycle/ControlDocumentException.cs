namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>What is wrong with a lifecycle document or revocation list (<see cref="ControlDocumentException.Problem"/>).</summary>
public enum ControlDocumentProblem
{
    /// <summary>Malformed, unsigned, signed by an untrusted key, or stored under another name or sequence.</summary>
    Invalid,

    /// <summary>A trusted key verifies it, but the revocation list in force revokes that key.</summary>
    SignerRevoked,

    /// <summary>Whole, but no trusted key verifies its signature: signed by a key the reader does not trust, or forged.</summary>
    UntrustedSignature,

    /// <summary>A revocation list that drops a signer the list in force revokes (signer revocations are permanent).</summary>
    DropsRevokedSigner,

    /// <summary>Publishing: a document with this sequence or a higher one is already stored.</summary>
    SequenceTaken,

    /// <summary>Publishing: the sequence skips ahead; each new document is one above every stored one.</summary>
    SequenceSkipsAhead,

    /// <summary>
    /// Publishing: a stored document above the one the change would start from does not verify with the publisher's
    /// trusted keys. An instance that trusts its signer starts from it, so the change would undo it there.
    /// </summary>
    NewerUnverified,
}

/// <summary>A lifecycle document or revocation list that is malformed, unsigned, signed by an untrusted or revoked key, or stored under another name.</summary>
public sealed class ControlDocumentException : Exception
{
    public ControlDocumentException()
    {
    }

    public ControlDocumentException(string message)
        : base(message)
    {
    }

    public ControlDocumentException(string message, ControlDocumentProblem problem)
        : base(message)
    {
        Problem = problem;
    }

    public ControlDocumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What is wrong with it.</summary>
    public ControlDocumentProblem Problem { get; }
}
