namespace ServerlessServe.Local;

/// <summary>An app's process exited before it became ready.</summary>
public sealed class AppExitedException : InvalidOperationException
{
    public AppExitedException()
    {
    }

    public AppExitedException(string message)
        : base(message)
    {
    }

    public AppExitedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Starting an app process and waiting until it is ready, once more when its process exited while starting and a
/// second start is allowed.
/// </summary>
/// <remarks>
/// The Functions host (built from source, <c>../shared/tools/functions-host</c>) once exited with code 134 (an abort)
/// while a CI run started its inference app on two loaded cores, and every test of that lane failed with it; 90 starts
/// of it on two cores beside a looping test run did not do it again (the cause is not known). The apps start the same
/// way every time (their start is the same code in both hosts), so a start that fails twice is reported; one that failed
/// once is started again and the first failure, with the process's last lines, goes to <c>onRetry</c> and stays in the
/// first log, renamed <c>*.exited-1</c>. A start that did not become ready in time is never retried.
/// </remarks>
public static class AppStart
{
    /// <summary>
    /// Calls <paramref name="launch"/> and then <paramref name="waitReady"/> on the process it started; when that throws
    /// <see cref="AppExitedException"/> and <paramref name="retryOnExit"/> is true, the exited process is released, its
    /// log at <paramref name="logPath"/> is moved to <c>{logPath}.exited-1</c>, <paramref name="onRetry"/> gets the
    /// failure, and it starts once more. Returns the ready process.
    /// </summary>
    public static async Task<ChildProcess> LaunchUntilReadyAsync(
        Func<ChildProcess> launch,
        Func<ChildProcess, Task> waitReady,
        string logPath,
        bool retryOnExit,
        Action<AppExitedException> onRetry)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(waitReady);
        ArgumentNullException.ThrowIfNull(onRetry);
        for (var attempt = 1; ; attempt++)
        {
            var process = launch();
            try
            {
                await waitReady(process).ConfigureAwait(false);
                return process;
            }
            catch (AppExitedException exited) when (retryOnExit && attempt == 1)
            {
                await process.DisposeAsync().ConfigureAwait(false);
                if (File.Exists(logPath))
                {
                    File.Move(logPath, logPath + ".exited-1", overwrite: true);
                }

                onRetry(exited);
            }
        }
    }
}
