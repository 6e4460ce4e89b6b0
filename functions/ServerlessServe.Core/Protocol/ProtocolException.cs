namespace ServerlessServe.Core.Protocol;

/// <summary>
/// A request that cannot be served, with the HTTP status to answer and a message that is safe to return to an
/// untrusted caller: it never contains a request value, a stack trace or an internal name.
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(int statusCode, string safeMessage)
        : base(safeMessage)
    {
        StatusCode = statusCode;
    }

    public ProtocolException()
        : this(400, "bad request")
    {
    }

    public ProtocolException(string message)
        : this(400, message)
    {
    }

    public ProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = 400;
    }

    public int StatusCode { get; }

    public static ProtocolException BadRequest(string safeMessage) => new(400, safeMessage);

    public static ProtocolException TooLarge(string safeMessage) => new(413, safeMessage);

    public static ProtocolException NotFound(string safeMessage) => new(404, safeMessage);

    public static ProtocolException Unavailable(string safeMessage) => new(503, safeMessage);
}
