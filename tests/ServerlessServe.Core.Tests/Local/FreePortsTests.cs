using System.Net;
using System.Net.Sockets;
using ServerlessServe.Local;

namespace ServerlessServe.Core.Tests.Local;

/// <summary>
/// The ports the local stack and the tests start processes on: picked below the kernel's range for outgoing
/// connections (so no connection takes one between the pick and the bind), never twice in a process, each free, and
/// reserved for the process that picked it until it exits.
/// </summary>
public sealed class FreePortsTests
{
    [Theory]
    [InlineData(32768, 60999, 20000, 32767)] // Linux's default range
    [InlineData(49152, 65535, 20000, 49151)] // the IANA range
    public void PickRange_BelowTheOutgoingRange(int low, int high, int pickedLow, int pickedHigh)
    {
        Assert.Equal((pickedLow, pickedHigh), FreePorts.PickRange((low, high)));
    }

    [Theory]
    [InlineData(1024, 65535)] // nothing below it worth picking from
    [InlineData(20999, 60999)] // fewer than 1,000 ports below it
    public void PickRange_TooSmall_TheKernelPicks(int low, int high)
    {
        Assert.Null(FreePorts.PickRange((low, high)));
    }

    [Fact]
    public void PickRange_Unknown_TheKernelPicks()
    {
        Assert.Null(FreePorts.PickRange(null));
    }

    [Fact]
    public void Next_OutsideTheOutgoingRange_DistinctAndBindable()
    {
        var ephemeral = FreePorts.ReadEphemeralRange();
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(ephemeral);
        }

        var ports = Enumerable.Range(0, 200).Select(_ => FreePorts.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        if (FreePorts.PickRange(ephemeral) is { } range)
        {
            Assert.All(ports, p => Assert.InRange(p, range.Low, range.High));
            Assert.All(ports, p => Assert.False(p >= ephemeral!.Value.Low && p <= ephemeral.Value.High));
        }

        using var listener = new TcpListener(IPAddress.Loopback, ports[^1]);
        listener.Start();
        Assert.False(FreePorts.IsFree(ports[^1]));
    }

    [Fact]
    public void NextRun_ConsecutiveFreePorts_NotHandedOutAgain()
    {
        var first = FreePorts.NextRun(3);
        var run = new[] { first, first + 1, first + 2 };

        Assert.All(run, p => Assert.True(FreePorts.IsFree(p)));
        if (FreePorts.PickRange(FreePorts.ReadEphemeralRange()) is not null)
        {
            var later = Enumerable.Range(0, 200).Select(_ => FreePorts.Next()).ToList();
            Assert.Empty(later.Intersect(run));
        }
    }

    [Fact]
    public async Task Next_ThePortStaysThisProcesss_AnotherProcessCannotReserveIt()
    {
        var port = FreePorts.Next();
        if (FreePorts.LockFile(port) is not { } lockFile)
        {
            Assert.Fail("ports are not reserved: no folder for the lock files");
            return;
        }

        // flock(1), another process: the lock this process took when it handed the port out is still held.
        var (exitCode, _) = await RunAsync("flock", "--nonblock", "--conflict-exit-code", "7", lockFile, "true");

        Assert.Equal(7, exitCode);
        Assert.True(FreePorts.TryReserve(port));
    }

    [Fact]
    public async Task TryReserve_AnotherLiveProcessHoldsThePort_RefusedUntilItEnds()
    {
        // A port below the picked range, which Next never hands out, so only this test reserves it.
        var port = FreePorts.LowestPicked - 500 - Random.Shared.Next(400);
        var lockFile = FreePorts.LockFile(port)!;
        // --close: only flock itself holds the lock, not the command it runs. Otherwise the lock lives until the
        // command's process is torn down too, which the wait below does not wait for (a CI run saw it still held).
        var holder = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("flock", ["--nonblock", "--close", lockFile, "sh", "-c", "echo held; exec sleep 60"]) { RedirectStandardOutput = true })!;
        try
        {
            Assert.Equal("held", await holder.StandardOutput.ReadLineAsync());

            Assert.False(FreePorts.TryReserve(port));
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync();
            holder.Dispose();
        }

        // The holder ended, however it ended: its lock went with it.
        Assert.True(FreePorts.TryReserve(port));
        var (exitCode, _) = await RunAsync("flock", "--nonblock", "--conflict-exit-code", "7", lockFile, "true");
        Assert.Equal(7, exitCode);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    [Fact]
    public void NextRun_AtLeastOnePort()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FreePorts.NextRun(0));
    }
}
