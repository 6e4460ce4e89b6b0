using System.Diagnostics;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Hosting.Tests.Functions;

/// <summary><see cref="ProcessStat"/> read from a real process's <c>/proc/PID/stat</c>.</summary>
public sealed class ProcessStatTests
{
    [Fact]
    public async Task Session_ALeaderOfItsOwn_ThisProcessNot_NullOnceGone()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/setsid"))
        {
            return;
        }

        // setsid(1) execs sleep in place (a child just forked leads no group), so sleep leads a session of its own.
        using var leader = Process.Start(new ProcessStartInfo("/usr/bin/setsid", ["sleep", "30"]))!;
        var id = leader.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (ProcessStat.Session(id) != leader.Id && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(leader.Id, ProcessStat.Session(id));
            Assert.Equal(Environment.ProcessId, ProcessStat.Read(id)?.Parent);
            Assert.NotNull(ProcessStat.Session("self"));
            Assert.NotEqual(leader.Id, ProcessStat.Session("self"));
        }
        finally
        {
            leader.Kill();
            await leader.WaitForExitAsync();
        }

        Assert.Null(ProcessStat.Session(id));
    }
}
