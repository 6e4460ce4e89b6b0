namespace ServerlessServe.Core.Policy;

/// <summary>
/// A <c>policy.json</c> that is malformed, breaks the schema or does not fit its model. <see cref="PolicyPath"/> is a
/// JSON-pointer-like path into the policy (for example <c>/outputs/probabilities/k</c>); the message never holds a value.
/// </summary>
public sealed class PolicyException : Exception
{
    public PolicyException(string policyPath, string reason)
        : base($"policy {policyPath}: {reason}")
    {
        PolicyPath = policyPath;
        Reason = reason;
    }

    public PolicyException()
        : this("/", "invalid")
    {
    }

    public PolicyException(string message)
        : this("/", message)
    {
    }

    public PolicyException(string message, Exception innerException)
        : base(message, innerException)
    {
        PolicyPath = "/";
        Reason = message;
    }

    /// <summary>Where in the policy the problem is.</summary>
    public string PolicyPath { get; }

    /// <summary>What is wrong, without values.</summary>
    public string Reason { get; }
}
