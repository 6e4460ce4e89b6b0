using ServerlessServe.Local;

namespace ServerlessServe.Core.Tests.Local;

/// <summary>
/// An app process that exits while it starts is started once more where that is allowed (under the Functions host),
/// with the first failure reported and its log kept; never twice, and never where it is not allowed.
/// </summary>
public sealed class AppStartTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ss-start-").FullName;
    private readonly List<ChildProcess> _started = [];

    public void Dispose()
    {
        foreach (var process in _started)
        {
            process.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Directory.Delete(_directory, recursive: true);
    }

    private string Log => Path.Combine(_directory, "app.log");

    // Each attempt runs the next script: one that exits (an abort) or one that stays up (ready).
    private Func<ChildProcess> Launches(params string[] scripts)
    {
        var next = 0;
        return () =>
        {
            var process = ChildProcess.Start("app", "/bin/sh", ["-c", scripts[next++]], _directory, Log);
            _started.Add(process);
            return process;
        };
    }

    // Ready once the process wrote "listening"; an exit before that is AppExitedException.
    private static async Task WaitReady(ChildProcess process)
    {
        for (var i = 0; i < 80; i++)
        {
            if (process.HasExited)
            {
                throw new AppExitedException(await process.FailureMessageAsync($"app exited with code {process.ExitCode}", "app.log"));
            }

            if ((await process.RecentOutputAsync()).Contains("listening"))
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("app did not become ready");
    }

    private const string Aborts = "echo 'Unhandled exception. Boom' >&2; exit 134";
    private const string StaysUp = "echo listening; exec sleep 30";

    [Fact]
    public async Task ExitedOnce_StartedAgain_TheFailureReportedAndItsLogKept()
    {
        var retries = new List<string>();

        var process = await AppStart.LaunchUntilReadyAsync(Launches(Aborts, StaysUp), WaitReady, Log, retryOnExit: true, e => retries.Add(e.Message));

        Assert.False(process.HasExited);
        Assert.Equal(2, _started.Count);
        var retry = Assert.Single(retries);
        Assert.StartsWith("app exited with code 134", retry, StringComparison.Ordinal);
        Assert.Contains("Unhandled exception. Boom", retry, StringComparison.Ordinal);
        Assert.Contains("Unhandled exception. Boom", await File.ReadAllTextAsync(Log + ".exited-1"), StringComparison.Ordinal);
        Assert.Equal("listening", (await File.ReadAllTextAsync(Log)).Trim());
    }

    [Fact]
    public async Task ExitedTwice_TheSecondFailureIsThrown()
    {
        var retries = new List<string>();

        var thrown = await Assert.ThrowsAsync<AppExitedException>(
            () => AppStart.LaunchUntilReadyAsync(Launches(Aborts, "echo second >&2; exit 3"), WaitReady, Log, retryOnExit: true, e => retries.Add(e.Message)));

        Assert.StartsWith("app exited with code 3", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("second", thrown.Message, StringComparison.Ordinal);
        Assert.Single(retries);
        Assert.Equal(2, _started.Count);
    }

    [Fact]
    public async Task RetryNotAllowed_TheFirstFailureIsThrown()
    {
        var retries = new List<string>();

        var thrown = await Assert.ThrowsAsync<AppExitedException>(
            () => AppStart.LaunchUntilReadyAsync(Launches(Aborts, StaysUp), WaitReady, Log, retryOnExit: false, e => retries.Add(e.Message)));

        Assert.StartsWith("app exited with code 134", thrown.Message, StringComparison.Ordinal);
        Assert.Empty(retries);
        Assert.Single(_started);
        Assert.False(File.Exists(Log + ".exited-1"));
    }

    [Fact]
    public async Task NotReadyInTime_NeverRetried()
    {
        var retries = new List<string>();

        await Assert.ThrowsAsync<TimeoutException>(
            () => AppStart.LaunchUntilReadyAsync(Launches("exec sleep 30", StaysUp), WaitReady, Log, retryOnExit: true, e => retries.Add(e.Message)));

        Assert.Empty(retries);
        Assert.Single(_started);
    }
}
