using System.Text;

namespace ServerlessServe.Core.Redaction;

/// <summary>
/// Stands in for an exception whose message held personal data when it is logged (<see cref="TelemetryRedaction"/>):
/// the message redacted, the original type's name and stack trace kept.
/// </summary>
public sealed class RedactedException : Exception
{
    private readonly string? _stackTrace;

    public RedactedException()
        : this("An exception whose message was redacted.")
    {
    }

    public RedactedException(string message)
        : this(message, null)
    {
    }

    public RedactedException(string message, Exception? innerException)
        : base(message, innerException)
    {
        OriginalType = nameof(RedactedException);
    }

    /// <summary>An exception of type <paramref name="originalType"/> with its message redacted.</summary>
    public RedactedException(string originalType, string message, Exception? innerException, string? stackTrace)
        : base(message, innerException)
    {
        OriginalType = originalType;
        _stackTrace = stackTrace;
    }

    /// <summary>The full name of the type of the exception this one stands in for.</summary>
    public string OriginalType { get; }

    /// <inheritdoc />
    public override string? StackTrace => _stackTrace ?? base.StackTrace;

    /// <summary>Like <see cref="Exception.ToString()"/>, with the original type's name: <c>Type (redacted): message</c>.</summary>
    public override string ToString()
    {
        var builder = new StringBuilder().Append(OriginalType).Append(" (redacted): ").Append(Message);
        if (InnerException is not null)
        {
            builder.Append(" ---> ").Append(InnerException).AppendLine().Append("   --- End of inner exception stack trace ---");
        }

        if (StackTrace is { } trace)
        {
            builder.AppendLine().Append(trace);
        }

        return builder.ToString();
    }
}
