namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// What <c>ssctl job</c> exits with, so a script can tell a finished job from a refused request without parsing output.
/// <see cref="Error"/> is also what <c>Program</c> returns for any failure <see cref="Commands.CliErrors"/> describes.
/// </summary>
internal static class JobExitCodes
{
    /// <summary>The request succeeded; for a job waited on or a result, the job completed (items may still be refused, each says so).</summary>
    public const int Ok = 0;

    /// <summary>Bad input, no token, the gateway refused the request (4xx), or it stayed unreachable or failing (5xx).</summary>
    public const int Error = 2;

    /// <summary>The job failed.</summary>
    public const int Failed = 3;

    /// <summary>The job was cancelled.</summary>
    public const int Cancelled = 4;

    /// <summary>The job has not finished: <c>result</c> without <c>--wait</c>, <c>--timeout</c> passed, or <c>cancel</c> did not stop it.</summary>
    public const int NotFinished = 5;

    /// <summary>Interrupted (Ctrl-C) while waiting; the job goes on.</summary>
    public const int Interrupted = 130;

    /// <summary>The exit codes as the commands' help lists them.</summary>
    public const string Help =
        "Exit codes: 0 done (completed, when waiting or asking for the result); 1 usage error; 2 bad input, no token, the gateway refused the request (4xx) " +
        "or stayed unreachable; 3 the job failed; 4 the job was cancelled; 5 the job has not finished (result without --wait, or --timeout passed); " +
        "130 interrupted while waiting (the job goes on).";

    /// <summary>The exit code for a job in <paramref name="status"/>, once the caller wanted it finished.</summary>
    public static int ForFinished(string status) => status switch
    {
        JobStatusNames.Completed => Ok,
        JobStatusNames.Failed => Failed,
        JobStatusNames.Cancelled => Cancelled,
        _ => NotFinished,
    };
}
