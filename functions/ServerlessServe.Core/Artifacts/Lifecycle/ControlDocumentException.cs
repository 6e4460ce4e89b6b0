namespace ServerlessServe.Core.Artifacts.Lifecycle;

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

    public ControlDocumentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
