namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// A jobs API call that did not succeed, described in one line for the terminal (never holding the token). Transient
/// failures (unreachable, timed out, 5xx, 429) are retried while waiting; anything else ends the command.
/// </summary>
internal sealed class JobApiException : Exception
{
    public JobApiException()
    {
    }

    public JobApiException(string message)
        : base(message)
    {
    }

    public JobApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public JobApiException(string message, int? status, bool transient, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Status = status;
        IsTransient = transient;
        RetryAfter = retryAfter;
    }

    /// <summary>The HTTP status the gateway answered, or null when it did not answer.</summary>
    public int? Status { get; }

    /// <summary>Whether the same call may succeed later (the gateway restarting, overloaded, or briefly unreachable).</summary>
    public bool IsTransient { get; }

    /// <summary>How long the gateway asked us to wait (<c>Retry-After</c>), if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
