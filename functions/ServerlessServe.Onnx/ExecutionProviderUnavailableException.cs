namespace ServerlessServe.Onnx;

/// <summary>The configured execution provider cannot be used and CPU fallback is not allowed: the service fails closed.</summary>
internal sealed class ExecutionProviderUnavailableException : Exception
{
    public ExecutionProviderUnavailableException()
        : base("the configured execution provider is unavailable")
    {
    }

    public ExecutionProviderUnavailableException(string message)
        : base(message)
    {
    }

    public ExecutionProviderUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
