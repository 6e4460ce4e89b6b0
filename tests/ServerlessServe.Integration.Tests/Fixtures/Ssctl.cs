using System.Diagnostics;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>Runs the real <c>ssctl</c> as a separate process.</summary>
public static class Ssctl
{
    public sealed record Result(int ExitCode, string Output);

    public static Task<Result> RunAsync(StackFixture fixture, params string[] arguments) =>
        RunAsync(fixture, TimeSpan.FromMinutes(2), arguments);

    public static async Task<Result> RunAsync(StackFixture fixture, TimeSpan timeLimit, params string[] arguments)
    {
        var assembly = Path.Combine(fixture.RepositoryRoot, "tools", "ServerlessServe.Cli", "bin", fixture.BuildConfiguration, "net10.0", "ssctl.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NO_COLOR"] = "1";
        info.Environment["COLUMNS"] = "250";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(timeLimit);
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout + await stderr);
    }
}
