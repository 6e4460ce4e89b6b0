namespace ServerlessServe.Jobs;

/// <summary>A job step could not finish this time (the inference app or the audit log unavailable): worth retrying.</summary>
public sealed class TransientStepException : Exception
{
    public TransientStepException()
        : base("unavailable; the orchestration retries")
    {
    }

    public TransientStepException(string message)
        : base(message)
    {
    }

    public TransientStepException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
