namespace ServerlessServe.Core.Identity;

/// <summary>The outcome of validating a bearer token: the caller it proves, or why it was refused (never told to the caller).</summary>
public readonly record struct TokenVerdict
{
    private TokenVerdict(CallerIdentity? caller, TokenFailure failure)
    {
        Caller = caller;
        Failure = failure;
    }

    /// <summary>The authenticated caller; null when refused.</summary>
    public CallerIdentity? Caller { get; }

    /// <summary>Why the token was refused; meaningless when <see cref="Caller"/> is set.</summary>
    public TokenFailure Failure { get; }

    public bool IsAccepted => Caller is not null;

    public static TokenVerdict Accepted(CallerIdentity caller) => new(caller ?? throw new ArgumentNullException(nameof(caller)), default);

    public static TokenVerdict Refused(TokenFailure failure) => new(null, failure);
}
