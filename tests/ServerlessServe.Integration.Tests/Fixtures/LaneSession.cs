using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ServerlessServe.Hosting.Functions;

namespace ServerlessServe.Integration.Tests.Fixtures;

/// <summary>
/// The Functions-host lane (this assembly's test process, built with <c>FUNCTIONS_HOST_LANE</c>) runs in a session of
/// its own, and so in a scheduling group of its own; the standalone lane stays in the run's.
/// </summary>
/// <remarks>
/// <para>
/// Linux with autogroup scheduling (<c>/proc/sys/kernel/sched_autogroup_enabled</c>, on here and on most desktop and CI
/// kernels) shares the CPU fairly between sessions first, then between the threads of each session. A CI run starts
/// every test project in one session, so the unit-test processes, with many busy threads, took most of the two cores
/// while the lanes started their stacks: the Functions-host lane, the run's longest, got 0.14-0.64 of a core in its
/// first five minutes, and took 3 minutes for a start that takes 25 s alone (docs/design.md, "Tests").
/// </para>
/// <para>
/// With <c>setsid(2)</c> at load, the lane's process and everything it starts (Azurite, the Functions hosts and their
/// workers, <c>ssctl</c>) share one group, which gets half the machine whenever the rest of the run wants the other
/// half, and more when it does not. Nothing a test checks depends on it. With the standalone lane in a group of its own
/// as well, the unit tests were left a third, and the Azurite of one of them did not start within its 60 s; the host
/// lane, the longer, ended no sooner. Off with <c>SERVERLESSSERVE_LANE_OWN_SESSION=0</c>, and wherever the call fails
/// (not Linux, already a process-group leader).
/// </para>
/// <para>
/// Outside the runner's process group, the lane's processes no longer get the terminal's Ctrl-C, nor a signal sent to
/// the group the run was started in. So a thread watches the parent (the test runner): once it is gone, this process
/// sends SIGTERM to its own group, its children included, and SIGKILL 10 s later; the end of this process does the same
/// if the parent went first.
/// </para>
/// </remarks>
internal static class LaneSession
{
    private const int SigTerm = 15;

    private const int SigKill = 9;

    private static int _ending;

#if FUNCTIONS_HOST_LANE
    private static readonly bool HostLane = true;
#else
    private static readonly bool HostLane = false;
#endif

    /// <summary>Whether this lane asks for a session of its own (the Functions-host lane, on Linux, unless turned off).</summary>
    public static bool Wanted => HostLane && OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("SERVERLESSSERVE_LANE_OWN_SESSION") != "0";

    /// <summary>True once this process leads a session of its own.</summary>
    public static bool Entered { get; private set; }

    /// <summary>Why the session was not entered, or null.</summary>
    public static string? NotEnteredBecause { get; private set; }

    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries", Justification = "A test assembly: its processes' scheduling is decided before any test or fixture starts one.")]
    internal static void Enter()
    {
        if (!HostLane)
        {
            NotEnteredBecause = "the standalone lane stays in the run's session";
            return;
        }

        if (!OperatingSystem.IsLinux())
        {
            NotEnteredBecause = "not Linux";
            return;
        }

        if (Environment.GetEnvironmentVariable("SERVERLESSSERVE_LANE_OWN_SESSION") == "0")
        {
            NotEnteredBecause = "SERVERLESSSERVE_LANE_OWN_SESSION=0";
            return;
        }

        var parent = Parent();
        if (setsid() < 0)
        {
            NotEnteredBecause = "setsid failed with errno " + Marshal.GetLastPInvokeError();
            return;
        }

        Entered = true;
        var watch = new Thread(() => WatchParent(parent)) { IsBackground = true, Name = "lane session: parent watch" };
        watch.Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => EndGroupIfOrphaned(parent);
    }

    private static void WatchParent(int parent)
    {
        while (Parent() == parent)
        {
            Thread.Sleep(1000);
        }

        EndGroupIfOrphaned(parent);
    }

    // The runner ended (or was killed) without this process ending first: its children would outlive the run. SIGTERM
    // to the whole group first (this process included, which then ends), and SIGKILL 10 s later to whatever did not
    // stop (a Functions host whose worker is gone can take longer than that on SIGTERM).
    private static void EndGroupIfOrphaned(int parent)
    {
        if (Parent() != parent && Interlocked.Exchange(ref _ending, 1) == 0)
        {
            _ = kill(0, SigTerm);
            Thread.Sleep(TimeSpan.FromSeconds(10));
            _ = kill(0, SigKill);
        }
    }

    // This process's parent, as the Functions-host watch reads it (-1 when it cannot be read).
    private static int Parent() => ProcessStat.Read("self")?.Parent ?? -1;

    // DllImport rather than LibraryImport: blittable ints need no marshalling, and the project needs no unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int setsid();

    [DllImport("libc")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
