using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Hosting.Functions;

/// <summary>
/// Stops a worker whose Functions host has gone. The host starts the worker as its child process, and a host that
/// dies without stopping it (a crash, a native abort, a kill) leaves the worker running as an orphan: it keeps its
/// memory, its timers and its storage polling, and nothing will ever send it an invocation again. Measured with the
/// host built from source: after a SIGKILL of the host, its worker was still running minutes later. The watch reads
/// the worker's parent process id once a second; when it is no longer the host's (the worker was handed to init or a
/// subreaper), the worker stops as on SIGTERM (the gateway writes its final audit checkpoint) and, if that stop has
/// not ended the process after <see cref="StopGrace"/>, exits. Under the standalone host nothing registers it.
/// </summary>
internal sealed class FunctionsHostWatch(IHostApplicationLifetime lifetime, ILogger<FunctionsHostWatch> logger) : BackgroundService
{
    /// <summary>How often the parent is looked at: a system call, nothing else.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long the orderly stop may take before the process exits regardless.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (ParentId() is not { } host || host <= 1)
        {
            // Started by init (or its host is already gone), or the parent cannot be read: there is no host to follow.
            Log.NoHostProcess(logger, ParentId() ?? -1);
            return;
        }

        using var timer = new PeriodicTimer(PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (ParentId() is not { } parent || parent == host)
                {
                    continue;
                }

                Log.HostGone(logger, host, parent);
                lifetime.StopApplication();

                // Detached, so that the orderly stop never waits for it; the process ending first ends it.
                _ = Task.Run(async () =>
                {
                    await Task.Delay(StopGrace, CancellationToken.None).ConfigureAwait(false);
                    Log.StopTooSlow(logger, StopGrace.TotalSeconds);
                    Environment.Exit(1);
                }, CancellationToken.None);
                return;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The worker stops for another reason.
        }
    }

    /// <summary>
    /// This process's parent, or null when it cannot be read. On Linux from <c>/proc/self/stat</c>
    /// (<see cref="ProcessStat"/>), with no native call; elsewhere from
    /// <c>getppid</c>, and a C library that cannot be loaded turns the watch off rather than failing the worker.
    /// </summary>
    internal static int? ParentId()
    {
        if (OperatingSystem.IsLinux())
        {
            return ProcessStat.Read("self")?.Parent;
        }

        try
        {
            return getppid();
        }
        catch (DllNotFoundException)
        {
            return null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
    }

    // DllImport rather than LibraryImport: a blittable int needs no marshalling, and the project stays free of unsafe code.
#pragma warning disable SYSLIB1054
    [DllImport("libc", SetLastError = false)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int getppid();
#pragma warning restore SYSLIB1054
}

/// <summary>Registers <see cref="FunctionsHostWatch"/>.</summary>
public static class FunctionsHostWatchExtensions
{
    /// <summary>
    /// Under the Functions host only: the worker stops when the host process that started it has gone (docs/design.md,
    /// "A worker outlives its host").
    /// </summary>
    public static IHostApplicationBuilder StopWithTheFunctionsHost(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddHostedService<FunctionsHostWatch>();
        return builder;
    }
}
