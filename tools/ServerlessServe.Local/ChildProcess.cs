using System.Diagnostics;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Local;

/// <summary>
/// A child process of the local stack with its output teed to a log file. Disposing kills the whole process tree, so
/// nothing is left running when <c>ssctl up</c> or a test run ends.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private const string SetSid = "/usr/bin/setsid";

    private readonly StreamWriter _log;
    private bool _logFailed;
    private string? _logFailure;
    private readonly object _gate = new();

    // The last lines of output, kept for error messages: when a process dies while the stack starts, the reason is in
    // its last lines, and a CI run's log keeps the message but not the stack's log files.
    private const int RecentLineCount = 40;
    private readonly Queue<string> _recent = new(RecentLineCount);

    private ChildProcess(string name, Process process, StreamWriter log)
    {
        Name = name;
        _process = process;
        _log = log;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    // Set once a stop or a crash of this process was asked for (DisposeAsync, CrashAsync, CrashAloneAsync).
    private int _stopAsked;

    // Set once the handler of WhenExitsUnasked has been called (at most once).
    private int _exitReported;

    /// <summary>
    /// Calls <paramref name="handler"/> once, on a thread-pool thread, if the process exits without a stop or crash
    /// having been asked for first (an app that died, or that something else killed); never after either was asked.
    /// </summary>
    public void WhenExitsUnasked(Action<ChildProcess> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (Volatile.Read(ref _stopAsked) != 0)
        {
            return;
        }

        void Report()
        {
            if (Volatile.Read(ref _stopAsked) == 0 && Interlocked.Exchange(ref _exitReported, 1) == 0)
            {
                handler(this);
            }
        }

        _process.Exited += (_, _) => Report();
        if (_process.HasExited)
        {
            Report();
        }
    }

    /// <summary>
    /// Starts <paramref name="fileName"/> with its output teed to <paramref name="logPath"/>. With
    /// <paramref name="ownSession"/> (and <c>setsid</c> at hand) it runs in a session of its own, out of the terminal's
    /// process group: a Ctrl-C then reaches only the parent, which stops its children in order (the apps first, so the
    /// gateway's final audit write still finds storage; Azurite last). Otherwise the terminal's SIGINT reached every
    /// child at once, Azurite included (found in review 2026-12-07).
    /// </summary>
    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string workingDirectory, string logPath, IReadOnlyDictionary<string, string>? environment = null, bool ownSession = false)
    {
        // setsid(1) execs the program in place when its caller leads no process group (a child just forked never does):
        // the process, its id and its output are the program's own.
        if (ownSession && OperatingSystem.IsLinux() && File.Exists(SetSid))
        {
            arguments = [fileName, .. arguments];
            fileName = SetSid;
        }

        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, log);
        process.OutputDataReceived += (_, e) => child.Write(e.Data);
        process.ErrorDataReceived += (_, e) => child.Write(e.Data);
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"{name} did not start.");
            }
        }
        catch
        {
            // Not found on PATH, not executable: nothing runs, so nothing holds the log file or the process handle.
            process.Dispose();
            log.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to completion (for <c>npm ci</c>, <c>dotnet build</c>); throws when it fails.</summary>
    public static async Task RunToCompletionAsync(string name, string fileName, IEnumerable<string> arguments, string workingDirectory, string logPath, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var child = Start(name, fileName, arguments, workingDirectory, logPath);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        await child._process.WaitForExitAsync(timeoutSource.Token).ConfigureAwait(false);
        if (child._process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{name} failed with exit code {child._process.ExitCode}; see {logPath}.");
        }
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>
    /// The last lines (at most 40) the process wrote to stdout or stderr, oldest first, after waiting up to 2 seconds
    /// for the rest of the output of a process that has exited.
    /// </summary>
    public async Task<IReadOnlyList<string>> RecentOutputAsync()
    {
        if (_process.HasExited)
        {
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                // Returns once the redirected streams reached their end, so the last lines were written.
                await _process.WaitForExitAsync(drain.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // A grandchild still holds the pipes: what arrived so far.
            }
        }

        lock (_gate)
        {
            return [.. _recent];
        }
    }

    /// <summary>
    /// "<paramref name="what"/>; see <paramref name="logPath"/>", followed by the last lines of output, indented: the
    /// message for a process that failed while the stack started.
    /// </summary>
    public async Task<string> FailureMessageAsync(string what, string logPath)
    {
        var lines = await RecentOutputAsync().ConfigureAwait(false);
        string? failure;
        lock (_gate)
        {
            failure = _logFailure;
        }

        var see = failure is null ? $"see {logPath}" : $"{logPath} could not be written past some point ({failure})";
        return lines.Count == 0
            ? $"{what}; {see} (no output)."
            : $"{what}; {see}. Its last {lines.Count} lines:{Environment.NewLine}" + string.Join(Environment.NewLine, lines.Select(line => "  | " + line));
    }

    /// <summary>Kills the whole process tree at once, as a crash would (no SIGTERM, no draining), then releases it.</summary>
    public async Task CrashAsync()
    {
        Volatile.Write(ref _stopAsked, 1);
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Kills this process alone, as a crash of it would (SIGKILL, nothing else), and gives the processes it had started
    /// <paramref name="grace"/> to end by themselves: a worker under the Functions host must stop when its host dies.
    /// Returns the ids of those still running after it; they are killed then, so nothing is left behind either way.
    /// On systems without <c>/proc</c> the descendants are not known and the whole tree is killed instead.
    /// </summary>
    public async Task<IReadOnlyList<int>> CrashAloneAsync(TimeSpan grace)
    {
        Volatile.Write(ref _stopAsked, 1);
        if (_process.HasExited)
        {
            await DisposeAsync().ConfigureAwait(false);
            return [];
        }

        if (!OperatingSystem.IsLinux())
        {
            await CrashAsync().ConfigureAwait(false);
            return [];
        }

        var descendants = DescendantIds(_process.Id);
        _process.Kill(entireProcessTree: false);

        // Not WaitForExitAsync: it also waits for the end of the output, which a descendant still holding the pipe delays.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!_process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
        }

        deadline = DateTime.UtcNow + grace;
        var running = descendants.Where(IsRunning).ToList();
        while (running.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
            running.RemoveAll(id => !IsRunning(id));
        }

        foreach (var id in running)
        {
            NativeSignals.Kill(id);
        }

        await DisposeAsync().ConfigureAwait(false);
        return running;
    }

    /// <summary>The processes below <paramref name="root"/> (children, theirs, ...), from <c>/proc</c> (Linux).</summary>
    public static IReadOnlyList<int> DescendantIds(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var id) || Stat(id) is not { } stat)
            {
                continue;
            }

            if (!children.TryGetValue(stat.Parent, out var list))
            {
                children[stat.Parent] = list = [];
            }

            list.Add(id);
        }

        var found = new List<int>();
        var queue = new Queue<int>([root]);
        while (queue.TryDequeue(out var parent))
        {
            foreach (var child in children.GetValueOrDefault(parent) ?? [])
            {
                found.Add(child);
                queue.Enqueue(child);
            }
        }

        return found;
    }

    /// <summary>Whether process <paramref name="id"/> runs (Linux): a zombie, ended but not yet reaped by whoever adopted it, does not.</summary>
    public static bool IsRunning(int id) => Stat(id) is { State: not 'Z' and not 'X' };

    private static (char State, int Parent)? Stat(int id) => ProcessStat.Read(id.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>How long a stop waits after SIGTERM before killing the process tree. Default 10 seconds.</summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Stops the process: SIGTERM first (on Unix), so it can finish in-flight work and flush (the gateway writes its
    /// final audit checkpoint); after <see cref="GracePeriod"/> the whole tree is killed.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _stopAsked, 1);
        try
        {
            if (!_process.HasExited && !OperatingSystem.IsWindows() && NativeSignals.Terminate(_process.Id))
            {
                using var grace = new CancellationTokenSource(GracePeriod);
                try
                {
                    await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Did not stop in time: killed below.
                }
            }

            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        catch (OperationCanceledException)
        {
            // Gave up waiting; the OS reaps it.
        }

        _process.Dispose();
        lock (_gate)
        {
            try
            {
                _log.Dispose();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                // The log could not be written (see Write): its last flush fails the same way.
            }
        }
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_recent.Count == RecentLineCount)
            {
                _recent.Dequeue();
            }

            _recent.Enqueue(line);
            if (_logFailed)
            {
                return;
            }

            try
            {
                _log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output after dispose is dropped.
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                // A full disk or a file-size limit: this runs on the process's output reader, which rethrows on a pool
                // thread and so ended ssctl (or the test host) with every child left running (found in review
                // 2026-12-07). The log file stops there; the recent lines are still kept for the failure message.
                _logFailed = true;
                _logFailure = ex.GetType().Name;
            }
        }
    }
}
