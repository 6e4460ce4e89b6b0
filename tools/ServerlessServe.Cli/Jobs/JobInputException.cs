namespace ServerlessServe.Cli.Jobs;

/// <summary>Input for <c>ssctl job submit</c> that is not a job; the message names where (option, file, line), never the content.</summary>
internal sealed class JobInputException : Exception
{
    public JobInputException()
    {
    }

    public JobInputException(string message)
        : base(message)
    {
    }

    public JobInputException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
