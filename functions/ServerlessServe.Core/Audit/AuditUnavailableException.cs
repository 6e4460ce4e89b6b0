namespace ServerlessServe.Core.Audit;

/// <summary>The audit record could not be committed; the response it covers must not be released.</summary>
internal sealed class AuditUnavailableException : Exception
{
    public AuditUnavailableException()
        : base("audit log unavailable")
    {
    }

    public AuditUnavailableException(string message)
        : base(message)
    {
    }

    public AuditUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>When the log expects to take records again (its circuit is open), or null.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
