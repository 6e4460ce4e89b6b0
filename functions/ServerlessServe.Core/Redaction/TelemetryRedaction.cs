namespace ServerlessServe.Core.Redaction;

/// <summary>
/// The output redactor applied to free text bound for logs and telemetry: every entity kind, the default phone regions.
/// Log messages and span tags are built from fixed templates and closed vocabularies (stage names, verdicts, resolved
/// model names); what is free text is an exception's message, which can quote the input that caused it. The places
/// that log an exception or its message at the edge of a request (<c>StagePipeline</c>, the standalone host's last-resort
/// handler, the job results endpoint) pass it through here first.
/// </summary>
public static class TelemetryRedaction
{
    private static readonly HashSet<PiiEntity> Everything = [.. Enum.GetValues<PiiEntity>()];

    /// <summary>The text with every entity replaced by its placeholder; the same instance when there is none.</summary>
    public static string Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return PiiRedactor.Redact(text, Everything).Text;
    }

    /// <summary>
    /// The exception itself when no message in its chain holds an entity; otherwise a <see cref="RedactedException"/>
    /// chain with the redacted messages, the original type names and the original stack traces.
    /// </summary>
    public static Exception Exception(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var inner = exception.InnerException is { } cause ? Exception(cause) : null;
        var message = Text(exception.Message);
        if (ReferenceEquals(message, exception.Message) && ReferenceEquals(inner, exception.InnerException))
        {
            return exception;
        }

        return new RedactedException(exception.GetType().FullName ?? exception.GetType().Name, message, inner, exception.StackTrace);
    }
}
