using System.Runtime.InteropServices;

namespace ServerlessServe.Local;

/// <summary>POSIX <c>kill(2)</c>: a graceful SIGTERM (.NET's <c>Process.Kill</c> sends SIGKILL), and SIGKILL by process id.</summary>
internal static class NativeSignals
{
    private const int SigTerm = 15;

    private const int SigKill = 9;

    /// <summary>Sends SIGTERM; false when it could not be sent (the caller then kills the process).</summary>
    public static bool Terminate(int processId) => OperatingSystem.IsWindows() ? false : kill(processId, SigTerm) == 0;

    /// <summary>Sends SIGKILL to a process that is not this one's child (an orphan); false when it could not be sent.</summary>
    public static bool Kill(int processId) => OperatingSystem.IsWindows() ? false : kill(processId, SigKill) == 0;

    // DllImport rather than LibraryImport: blittable ints need no marshalling, and Core stays free of unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
