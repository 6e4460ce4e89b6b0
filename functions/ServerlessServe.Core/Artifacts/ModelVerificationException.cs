namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// A stored or packaged model version that must not be served. The message names the check, never file contents;
/// the catalog turns it into an unavailable refusal, "model version unavailable".
/// </summary>
public sealed class ModelVerificationException : Exception
{
    public ModelVerificationException(ModelVerificationFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    public ModelVerificationException()
        : this(ModelVerificationFailure.Manifest, "model version failed verification")
    {
    }

    public ModelVerificationException(string message)
        : this(ModelVerificationFailure.Manifest, message)
    {
    }

    public ModelVerificationException(string message, Exception innerException)
        : this(ModelVerificationFailure.Manifest, message, innerException)
    {
    }

    public ModelVerificationFailure Failure { get; }
}
