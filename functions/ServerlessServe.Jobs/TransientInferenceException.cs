namespace ServerlessServe.Jobs;

/// <summary>The inference app could not answer this time (unreachable, timed out, 5xx, 429): worth retrying.</summary>
public sealed class TransientInferenceException : Exception
{
    public TransientInferenceException()
        : base("inference service unavailable; the orchestration retries")
    {
    }

    public TransientInferenceException(string message)
        : base(message)
    {
    }

    public TransientInferenceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
