using System.Diagnostics;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Hosting.Tests.Functions;

/// <summary>
/// The watch that stops a worker whose Functions host has gone reads its parent process id without a native call on
/// Linux; the integration lanes kill a host and check that its worker ends (FaultTests).
/// </summary>
public sealed class FunctionsHostWatchTests
{
    [Fact]
    public async Task ParentId_IsThisProcessesParent_AsPsReportsIt()
    {
        var info = new ProcessStartInfo("ps") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { "-o", "ppid=", "-p", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(argument);
        }

        using var ps = Process.Start(info)!;
        var output = await ps.StandardOutput.ReadToEndAsync();
        await ps.WaitForExitAsync();

        Assert.Equal(int.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture), FunctionsHostWatch.ParentId());
    }
}
