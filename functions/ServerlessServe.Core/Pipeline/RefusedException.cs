namespace ServerlessServe.Core.Pipeline;

/// <summary>
/// Thrown by domain code below a stage (codecs, validators, the catalog) to refuse a request from deep inside a
/// parse or a check; the pipeline turns it into the stage's <see cref="StageOutcome"/>. Carries a
/// <see cref="Pipeline.Refusal"/>, never a status code.
/// </summary>
public sealed class RefusedException : Exception
{
    public RefusedException(Refusal refusal)
        : base(refusal?.Message)
    {
        Refusal = refusal ?? throw new ArgumentNullException(nameof(refusal));
    }

    public RefusedException()
        : this(Pipeline.Refusal.Invalid("bad request"))
    {
    }

    public RefusedException(string message)
        : this(Pipeline.Refusal.Invalid(message))
    {
    }

    public RefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Refusal = Pipeline.Refusal.Invalid(message);
    }

    public Refusal Refusal { get; }

    public RefusalKind Kind => Refusal.Kind;

    public static RefusedException Invalid(string safeMessage) => new(Pipeline.Refusal.Invalid(safeMessage));

    public static RefusedException TooLarge(string safeMessage) => new(Pipeline.Refusal.TooLarge(safeMessage));

    public static RefusedException NotFound(string safeMessage) => new(Pipeline.Refusal.NotFound(safeMessage));

    public static RefusedException Unavailable(string safeMessage) => new(Pipeline.Refusal.Unavailable(safeMessage));
}
