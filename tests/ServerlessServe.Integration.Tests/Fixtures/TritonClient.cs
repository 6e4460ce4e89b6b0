using System.Diagnostics;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>
/// NVIDIA Triton's Python HTTP client (<c>tritonclient.http</c>), a V2 client this project did not write. Its source is
/// not in this repository: it is found in <c>$SERVERLESSSERVE_TRITONCLIENT</c>, else in
/// <c>../shared/tools/tritonclient</c> beside the clone (as the Functions host is), and runs on Debian's Python with
/// python3-numpy, python3-gevent, python3-geventhttpclient and python3-rapidjson, which <c>.ci/run</c> installs.
/// </summary>
public static class TritonClient
{
    /// <summary>The folder that holds the <c>tritonclient</c> package, when it is not the default.</summary>
    public const string PathVariable = "SERVERLESSSERVE_TRITONCLIENT";

    /// <summary>Set to 1 (CI does) to make a client that cannot run a failure instead of a skip.</summary>
    public const string RequireVariable = "SERVERLESSSERVE_REQUIRE_EXTERNAL_CLIENTS";

    private static readonly Lazy<string?> Skip = new(FindSkipReason);

    /// <summary>Debian's interpreter, which the Debian packages install for; any python3 on the path otherwise.</summary>
    public static string Python { get; } = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Why the client cannot run on this machine (and is not required), or null.</summary>
    public static string? SkipReason => Skip.Value;

    /// <summary>The folder holding the <c>tritonclient</c> package, or null when it is not there.</summary>
    public static string? Locate(string repositoryRoot)
    {
        var folder = Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.GetFullPath(Path.Combine(repositoryRoot, "..", "shared", "tools", "tritonclient"));
        return File.Exists(Path.Combine(folder, "tritonclient", "http", "__init__.py")) ? folder : null;
    }

    /// <summary>Runs <paramref name="script"/> with the client importable; its exit code, standard output and standard error.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(
        string repositoryRoot, string script, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var folder = Locate(repositoryRoot)
            ?? throw new InvalidOperationException($"NVIDIA Triton's client is not in {PathVariable} or ../shared/tools/tritonclient.");
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["PYTHONPATH"] = folder;
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(script)} did not finish within 3 minutes: {await stderr}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static string? FindSkipReason()
    {
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            return null;
        }

        var root = LocalState.FindRepositoryRoot(AppContext.BaseDirectory) ?? AppContext.BaseDirectory;
        if (Locate(root) is not { } folder)
        {
            return $"NVIDIA Triton's client is not in ${PathVariable} or ../shared/tools/tritonclient ({RequireVariable}=1 makes this a failure; CI sets it).";
        }

        try
        {
            var info = new ProcessStartInfo(Python, ["-c", "import tritonclient.http"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            info.Environment["PYTHONPATH"] = folder;
            using var process = Process.Start(info)!;
            process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            return process.WaitForExit(TimeSpan.FromSeconds(30)) && process.ExitCode == 0
                ? null
                : $"NVIDIA Triton's client does not import with {Python}: {error.Trim().Split('\n')[^1]} (install python3-numpy python3-gevent python3-geventhttpclient python3-rapidjson; {RequireVariable}=1 makes this a failure; CI sets it).";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"{Python} cannot start: {ex.Message} ({RequireVariable}=1 makes this a failure; CI sets it).";
        }
    }
}

/// <summary>A stack test that runs NVIDIA Triton's client; skipped with the reason when the lane or the client cannot run here.</summary>
public sealed class TritonClientFactAttribute : FactAttribute
{
    public TritonClientFactAttribute() => Skip = Lane.SkipReason ?? TritonClient.SkipReason!;
}
