namespace ServerlessServe.Hosting.Egress;

/// <summary>An outbound call to an authority outside the egress allow-list was refused.</summary>
internal sealed class EgressDeniedException : HttpRequestException
{
    public EgressDeniedException()
        : base("outbound destination not allowed")
    {
    }

    public EgressDeniedException(string message)
        : base(message)
    {
    }

    public EgressDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
