using System.Diagnostics;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>
/// A stack test that runs an external client (python3 with <c>cryptography</c>, curl and openssl): skipped, with the
/// reason, when the lane cannot run or the probe command fails on this machine; set
/// <c>SERVERLESSSERVE_REQUIRE_EXTERNAL_CLIENTS=1</c> to make a failed probe a failure instead.
/// </summary>
public sealed class ExternalClientFactAttribute : FactAttribute
{
    public ExternalClientFactAttribute(string probe, params string[] arguments)
    {
        Skip = Lane.SkipReason ?? (Environment.GetEnvironmentVariable("SERVERLESSSERVE_REQUIRE_EXTERNAL_CLIENTS") == "1" || Probe(probe, arguments)
            ? null!
            : $"`{probe} {string.Join(' ', arguments)}` failed on this machine; the external client cannot run (SERVERLESSSERVE_REQUIRE_EXTERNAL_CLIENTS=1 makes this a failure)");
    }

    private static bool Probe(string probe, string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo(probe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            return process.WaitForExit(TimeSpan.FromSeconds(30)) && process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
