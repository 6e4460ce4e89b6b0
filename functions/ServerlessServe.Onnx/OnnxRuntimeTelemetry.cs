using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace ServerlessServe.Onnx;

/// <summary>
/// Keeps ONNX Runtime's own telemetry off. Its official builds for Linux and macOS (1.29 and later) carry an uploader
/// (Microsoft's 1DS SDK) that records events about sessions and errors (model graph and producer names, error messages
/// that can quote a caller's input values), keeps a device id and an event store under <c>~/.cache</c>, and sends them
/// to Microsoft. It is on unless <c>ORT_DISABLE_TELEMETRY=1</c> is in the process's native environment when ONNX Runtime
/// loads; its API switch (<c>DisableTelemetryEvents</c>) comes too late for the events recorded as it starts. A process
/// that serves untrusted callers must not send anything to a third party, so the apps and tools call
/// <see cref="DisableBeforeLoad"/> first thing, and the session cache calls it again before its first session
/// (docs/design.md, "ONNX Runtime's telemetry").
/// </summary>
public static class OnnxRuntimeTelemetry
{
    /// <summary>The variable ONNX Runtime reads as it loads.</summary>
    public const string Variable = "ORT_DISABLE_TELEMETRY";

    private static readonly Lock Gate = new();
    private static OnnxRuntimeTelemetryState? _state;
    private static bool _eventsDisabled;

    /// <summary>
    /// Sets <see cref="Variable"/> to 1 in the process's native environment (where ONNX Runtime reads it; .NET's
    /// <see cref="Environment.SetEnvironmentVariable(string, string)"/> changes only the runtime's own copy on Linux), unless
    /// it is 1 already, and in the runtime's copy (which child processes inherit). Call it before anything loads ONNX
    /// Runtime, at the start of <c>Main</c>, while no other thread reads the environment. Idempotent: later calls return
    /// what the first one found.
    /// </summary>
    public static OnnxRuntimeTelemetryState DisableBeforeLoad()
    {
        lock (Gate)
        {
            if (_state is { } done)
            {
                return done;
            }

            if (OperatingSystem.IsWindows())
            {
                // Windows builds record through ETW, only while a trace session collects; the API switch covers them.
                return (_state = new OnnxRuntimeTelemetryState(LoadedBefore: false, Overridden: null));
            }

            var loadedBefore = IsLoaded();
            var current = NativeEnvironment.Get(Variable);
            if (!string.Equals(current, "1", StringComparison.Ordinal))
            {
                NativeEnvironment.Set(Variable, "1");
            }

            // And in the runtime's copy, which is what the processes this one starts inherit.
            Environment.SetEnvironmentVariable(Variable, "1");

            return (_state = new OnnxRuntimeTelemetryState(loadedBefore, current is null or "1" ? null : current));
        }
    }

    /// <summary>
    /// <see cref="DisableBeforeLoad"/>, then ONNX Runtime's API switch for the events it still records (it loads ONNX
    /// Runtime). For the code that creates sessions.
    /// </summary>
    public static OnnxRuntimeTelemetryState Disable()
    {
        var state = DisableBeforeLoad();
        lock (Gate)
        {
            if (!_eventsDisabled)
            {
                OrtEnv.Instance().DisableTelemetryEvents();
                _eventsDisabled = true;
            }
        }

        return state;
    }

    /// <summary>True when ONNX Runtime's native library is mapped into this process already (Linux; false elsewhere).</summary>
    private static bool IsLoaded()
    {
        try
        {
            return OperatingSystem.IsLinux()
                && File.ReadLines("/proc/self/maps").Any(static line => line.Contains("libonnxruntime", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The C library's environment, which native code reads (Linux, macOS).</summary>
    private static class NativeEnvironment
    {
        public static string? Get(string name)
        {
            var value = getenv(name);
            return value == 0 ? null : Marshal.PtrToStringUTF8(value);
        }

        public static void Set(string name, string value)
        {
            if (setenv(name, value, 1) != 0)
            {
                throw new InvalidOperationException($"setenv({name}) failed with errno {Marshal.GetLastPInvokeError()}.");
            }
        }

        // DllImport rather than LibraryImport: the project needs no unsafe code for two calls made once per process.
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int setenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern nint getenv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
    }
}

/// <summary>What <see cref="OnnxRuntimeTelemetry.DisableBeforeLoad"/> found.</summary>
/// <param name="LoadedBefore">
/// ONNX Runtime was loaded before the switch was set: the events it recorded as it started may have been kept (the API
/// switch stops later ones).
/// </param>
/// <param name="Overridden">The value the environment gave <see cref="OnnxRuntimeTelemetry.Variable"/> when it was not 1 (it is now).</param>
public sealed record OnnxRuntimeTelemetryState(bool LoadedBefore, string? Overridden);
