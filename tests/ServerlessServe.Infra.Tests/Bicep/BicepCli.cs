using System.Diagnostics;
using System.Reflection;

namespace ServerlessServe.Infra.Tests.Bicep;

/// <summary>The outcome of one Bicep CLI run.</summary>
public sealed record BicepResult(int ExitCode, string Output, string Diagnostics)
{
    /// <summary>Diagnostic lines (errors, warnings, infos) the CLI printed.</summary>
    public IReadOnlyList<string> DiagnosticLines =>
        Diagnostics.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Runs the Bicep CLI restored from the NuGet package Azure.Bicep.CommandLine.linux-x64 (pinned in
/// Directory.Packages.props). It works offline. BICEP_PATH overrides the binary (other platforms).
/// </summary>
public static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string InfraPath(params string[] parts) => Path.Combine([RepositoryRoot, "infra", .. parts]);

    public static string ExecutablePath
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("BICEP_PATH") is { Length: > 0 } overridden ? overridden : Metadata("BicepPath");
            if (!File.Exists(path))
            {
                throw new FileNotFoundException("The Bicep CLI was not restored; run `dotnet restore` (or set BICEP_PATH).", path);
            }

            // NuGet extraction does not always keep the executable bit.
            if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute))
            {
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
            }

            return path;
        }
    }

    /// <summary><c>bicep build FILE --stdout</c>: ARM JSON on Output, diagnostics on Diagnostics.</summary>
    public static Task<BicepResult> BuildAsync(string file) => RunAsync("build", file, "--stdout");

    /// <summary><c>bicep lint FILE</c>: every linter and compiler diagnostic on Diagnostics.</summary>
    public static Task<BicepResult> LintAsync(string file) => RunAsync("lint", file);

    private static async Task<BicepResult> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // No telemetry, no update checks: the run must not need the network.
        start.Environment["BICEP_TRACING_ENABLED"] = "false";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the Bicep CLI.");
        var output = process.StandardOutput.ReadToEndAsync();
        var diagnostics = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Timeout}.");
        }

        return new BicepResult(process.ExitCode, await output, await diagnostics);
    }

    private static string Metadata(string key) =>
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata '{key}' is missing.");
}
