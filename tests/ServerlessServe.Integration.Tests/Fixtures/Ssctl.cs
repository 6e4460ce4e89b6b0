using System.Diagnostics;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>Runs the real <c>ssctl</c> as a separate process.</summary>
public static class Ssctl
{
    /// <summary>What the process wrote; <see cref="Output"/> is standard output then standard error.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static Task<Result> RunAsync(StackFixture fixture, params string[] arguments) =>
        RunAsync(fixture, TimeSpan.FromMinutes(2), arguments);

    public static Task<Result> RunAsync(StackFixture fixture, TimeSpan timeLimit, params string[] arguments) =>
        RunWithInputAsync(fixture, timeLimit, standardInput: null, arguments);

    /// <summary>
    /// Runs ssctl with <paramref name="standardInput"/> piped in; without it standard input is empty and closed (never
    /// the test runner's). The gateway URL and token come from the arguments only, never from this environment.
    /// </summary>
    public static Task<Result> RunWithInputAsync(StackFixture fixture, TimeSpan timeLimit, string? standardInput, params string[] arguments) =>
        RunAsync(fixture.RepositoryRoot, fixture.BuildConfiguration, timeLimit, standardInput, arguments);

    /// <summary>Runs ssctl as a user would pipe it to a file: no <c>COLUMNS</c> in its environment.</summary>
    public static Task<Result> RunWithoutColumnsAsync(StackFixture fixture, params string[] arguments) =>
        RunAsync(fixture.RepositoryRoot, fixture.BuildConfiguration, TimeSpan.FromMinutes(2), standardInput: null, arguments, columns: false);

    /// <summary>Runs ssctl without a stack fixture (this build's ssctl, standard input empty and closed).</summary>
    public static Task<Result> RunAsync(TimeSpan timeLimit, params string[] arguments) =>
        RunAsync(TestBuild.RepositoryRoot, TestBuild.BuildConfiguration, timeLimit, standardInput: null, arguments);

    private static async Task<Result> RunAsync(string repositoryRoot, string buildConfiguration, TimeSpan timeLimit, string? standardInput, string[] arguments, bool columns = true)
    {
        var assembly = Path.Combine(repositoryRoot, "tools", "ServerlessServe.Cli", "bin", buildConfiguration, "net10.0", "ssctl.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NO_COLOR"] = "1";
        if (columns)
        {
            info.Environment["COLUMNS"] = "250";
        }
        else
        {
            info.Environment.Remove("COLUMNS");
        }

        info.Environment.Remove("SERVERLESSSERVE_URL");
        info.Environment.Remove("SERVERLESSSERVE_TOKEN");
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
        }

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(timeLimit);
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
