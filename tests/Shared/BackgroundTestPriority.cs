using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace ServerlessServe.Tests.Shared;

/// <summary>
/// Runs this unit-test assembly at a lower CPU priority (nice 5 on Linux) than the integration lanes. The README's test
/// command runs every test project at once; on two cores the lanes' stacks (Azurite, the apps, the Functions hosts) then
/// started 3.5-4 minutes late and the run neared CI's 20 minutes, while these in-process tests have minutes to spare.
/// The lanes wait on real timeouts; these do not. <c>SERVERLESSSERVE_UNIT_TEST_NICE=0</c> leaves the priority alone.
/// </summary>
internal static class BackgroundTestPriority
{
    /// <summary>The nice value to run at (0 to leave it); default 5.</summary>
    public const string Variable = "SERVERLESSSERVE_UNIT_TEST_NICE";

    private const int DefaultNice = 5;

#pragma warning disable CA2255 // A test assembly's own start-up hook: it runs before its first test, which is the point.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Lower()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var nice = int.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : DefaultNice;
        if (nice <= 0)
        {
            return;
        }

        try
        {
            // On Linux a nice value belongs to each thread, and a new thread (or child process) takes its creator's: every
            // thread that exists now is lowered, and what they start later follows.
            var info = new ProcessStartInfo("renice") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add("-n");
            info.ArgumentList.Add(nice.ToString(CultureInfo.InvariantCulture));
            info.ArgumentList.Add("-p");
            foreach (var thread in Directory.GetDirectories($"/proc/{Environment.ProcessId}/task"))
            {
                info.ArgumentList.Add(Path.GetFileName(thread));
            }

            using var process = Process.Start(info);
            if (process is not null)
            {
                process.StandardOutput.ReadToEnd();
                process.StandardError.ReadToEnd();
                process.WaitForExit(5000);
            }
        }
        catch (Exception ex) when (ex is Win32Exception or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // No renice here: the tests run at the usual priority.
        }
    }
}
