using ServerlessServe.Local;

namespace ServerlessServe.Core.Tests.Local;

/// <summary>
/// A child process of the local stack that dies while the stack starts: the error names the exit and carries the
/// process's last lines, since a CI log keeps the message but not the stack's log files.
/// </summary>
public sealed class ChildProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ss-child-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task FailureMessage_CarriesTheLastLinesOfStdoutAndStderr()
    {
        var log = Path.Combine(_directory, "app.log");
        await using var child = ChildProcess.Start("app", "/bin/sh", ["-c", "echo starting; echo 'Unhandled exception. Boom' >&2; exit 3"], _directory, log);
        await child.WaitForExitAsync(CancellationToken.None);

        var message = await child.FailureMessageAsync($"app exited with code {child.ExitCode}", log);

        Assert.StartsWith($"app exited with code 3; see {log}. Its last 2 lines:", message, StringComparison.Ordinal);
        Assert.Contains("  | starting", message, StringComparison.Ordinal);
        Assert.Contains("  | Unhandled exception. Boom", message, StringComparison.Ordinal);
        Assert.Contains("Unhandled exception. Boom", await File.ReadAllTextAsync(log, CancellationToken.None), StringComparison.Ordinal);
    }

    /// <summary>
    /// A log file that cannot be written (a full disk, a file-size limit): the write ran on the process's output reader,
    /// which rethrows on a pool thread, so it ended this process with every child left running (found in review
    /// 2026-12-07). Now the file stops and the recent lines are still kept.
    /// </summary>
    [Fact]
    public async Task UnwritableLog_ParentSurvives_RecentLinesKept()
    {
        Assert.True(File.Exists("/dev/full"), "this test needs /dev/full (Linux)");
        await using var child = ChildProcess.Start("app", "/bin/sh", ["-c", "seq 1 20000; exit 3"], _directory, "/dev/full");
        await child.WaitForExitAsync(CancellationToken.None);

        var message = await child.FailureMessageAsync($"app exited with code {child.ExitCode}", "/dev/full");

        Assert.Contains("/dev/full could not be written past some point (IOException)", message, StringComparison.Ordinal);
        Assert.Contains("  | 20000", message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A child started in a session of its own is out of the terminal's process group (a Ctrl-C reaches only its parent,
    /// which stops the stack in order); it is still the program itself, under its own id. Without it, it shares ours.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OwnSession_ChildLeadsASessionOfItsOwn_StillTheProgramItself(bool ownSession)
    {
        var log = Path.Combine(_directory, "session.log");
        await using var child = ChildProcess.Start("session", "/bin/sh", ["-c", "echo $$; cut -d' ' -f6 /proc/$$/stat"], _directory, log, ownSession: ownSession);
        await child.WaitForExitAsync(CancellationToken.None);

        var lines = await child.RecentOutputAsync();
        var ours = File.ReadAllText("/proc/self/stat").Split(' ')[5];
        Assert.Equal(2, lines.Count);
        if (ownSession)
        {
            // setsid made the program the leader of its session: the session's id is the program's own process id.
            Assert.Equal(lines[0], lines[1]);
            Assert.NotEqual(ours, lines[1]);
        }
        else
        {
            Assert.Equal(ours, lines[1]);
        }
    }

    [Fact]
    public void Start_ExecutableMissing_Throws_LogFileClosed()
    {
        var log = Path.Combine(_directory, "missing.log");

        Assert.ThrowsAny<Exception>(() => ChildProcess.Start("missing", Path.Combine(_directory, "no-such-program"), [], _directory, log));

        // Closed: opening it for writing alone succeeds (FileShare.None would fail while a writer holds it).
        using var reopened = new FileStream(log, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
    }

    [Fact]
    public async Task FailureMessage_KeepsOnlyTheLast40Lines()
    {
        var log = Path.Combine(_directory, "app.log");
        await using var child = ChildProcess.Start("app", "/bin/sh", ["-c", "seq 1 100"], _directory, log);
        await child.WaitForExitAsync(CancellationToken.None);

        var lines = await child.RecentOutputAsync();

        Assert.Equal(Enumerable.Range(61, 40).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines);
        Assert.Equal(100, (await File.ReadAllLinesAsync(log, CancellationToken.None)).Length);
    }

    [Fact]
    public async Task FailureMessage_NoOutput_SaysSo()
    {
        var log = Path.Combine(_directory, "app.log");
        await using var child = ChildProcess.Start("app", "/bin/sh", ["-c", "exit 134"], _directory, log);
        await child.WaitForExitAsync(CancellationToken.None);

        Assert.Equal($"app exited with code 134; see {log} (no output).", await child.FailureMessageAsync("app exited with code 134", log));
    }

    [Fact]
    public async Task WhenExitsUnasked_KilledFromOutside_ReportedOnceWithItsExitCode()
    {
        var log = Path.Combine(_directory, "app.log");
        await using var child = ChildProcess.Start("app", "/bin/sh", ["-c", "echo serving; exec sleep 60"], _directory, log);
        var reported = new TaskCompletionSource<int?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reports = 0;
        child.WhenExitsUnasked(process =>
        {
            Interlocked.Increment(ref reports);
            reported.TrySetResult(process.ExitCode);
        });

        // Something other than the stack ends it (SIGKILL, as the kernel's OOM killer would).
        using (var kill = System.Diagnostics.Process.Start("kill", ["-KILL", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        Assert.Equal(137, await reported.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, Volatile.Read(ref reports));
    }

    [Theory]
    [InlineData("dispose")]
    [InlineData("crash")]
    [InlineData("crash alone")]
    public async Task WhenExitsUnasked_StoppedOrCrashedByTheStack_NotReported(string how)
    {
        var log = Path.Combine(_directory, "app.log");
        var child = ChildProcess.Start("app", "/bin/sh", ["-c", "exec sleep 60"], _directory, log);
        var reports = 0;
        child.WhenExitsUnasked(_ => Interlocked.Increment(ref reports));
        switch (how)
        {
            case "dispose":
                await child.DisposeAsync();
                break;
            case "crash":
                await child.CrashAsync();
                break;
            case "crash alone":
                await child.CrashAloneAsync(TimeSpan.FromSeconds(1));
                break;
        }

        await Task.Delay(500);
        Assert.Equal(0, Volatile.Read(ref reports));
    }

    [Fact]
    public async Task CrashAlone_AChildThatFollowsItsParent_EndsByItself_NoneReported()
    {
        // The inner shell runs as long as its parent does (as a worker under the Functions host must).
        var log = Path.Combine(_directory, "app.log");
        var child = ChildProcess.Start("app", "/bin/bash", ["-c", "bash -c 'while kill -0 $PPID 2>/dev/null; do sleep 0.1; done' & echo started; wait"], _directory, log);
        await WaitForAsync(() => ChildProcess.DescendantIds(child.Id).Count > 0);
        var descendants = ChildProcess.DescendantIds(child.Id);

        var left = await child.CrashAloneAsync(TimeSpan.FromSeconds(20));

        Assert.Empty(left);
        Assert.All(descendants, id => Assert.False(ChildProcess.IsRunning(id), $"process {id} still runs"));
    }

    [Fact]
    public async Task CrashAlone_AChildThatOutlivesItsParent_IsReportedAndKilled()
    {
        var log = Path.Combine(_directory, "app.log");
        var child = ChildProcess.Start("app", "/bin/bash", ["-c", "sleep 300 & echo started; wait"], _directory, log);
        await WaitForAsync(() => ChildProcess.DescendantIds(child.Id).Count > 0);
        var sleeper = Assert.Single(ChildProcess.DescendantIds(child.Id));

        var left = await child.CrashAloneAsync(TimeSpan.FromSeconds(1));

        Assert.Equal([sleeper], left);
        await WaitForAsync(() => !ChildProcess.IsRunning(sleeper));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 20 s");
            await Task.Delay(50);
        }
    }
}
