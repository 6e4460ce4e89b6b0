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
}
