using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ServerlessServe.Local;

/// <summary>
/// Loopback port helpers for the local stack and tests.
/// </summary>
/// <remarks>
/// A port handed out here is bound by another process a moment later (an app, Azurite, the Functions host), often
/// seconds later. A port the kernel picks for a listener (<c>bind</c> to port 0) comes from the range it also takes
/// outgoing connections' ports from, so a connection that any process opens in those seconds (the tests open thousands)
/// can take it first: "address in use". So on Linux ports are picked below that range (between
/// <see cref="LowestPicked"/> and the start of <c>/proc/sys/net/ipv4/ip_local_port_range</c>), which no outgoing
/// connection uses. Each process goes through them in turn from a random start, so it never hands out one port twice
/// and a port something listens on is skipped. Where that range is unknown or too small, the kernel picks, as before.
/// <para>
/// A port handed out also stays this process's until it exits, across processes: it is reserved by an exclusive lock
/// on a file named for it (<see cref="ReservationDirectory"/>, one per user), which the kernel drops when the process
/// ends, and a port another live process of the user reserved is skipped. Without that, a port whose app this process
/// had stopped for a while (a fault test restarts it on the same port) looked free to another test process, which could
/// start its own app there; one CI run's failures fit that (docs/design.md, "Ports"). Where the folder or a port's file
/// cannot be used, ports are not reserved.
/// </para>
/// </remarks>
public static class FreePorts
{
    /// <summary>The lowest port picked: above the ports that local services and this stack use by default.</summary>
    public const int LowestPicked = 20000;

    private const int SmallestRange = 1000;

    private static readonly (int Low, int High)? Range = PickRange(ReadEphemeralRange());
    private static int _cursor = Random.Shared.Next(0, int.MaxValue / 2);

    // The locks this process holds on its ports' files, open until it exits.
    private static readonly Dictionary<int, FileStream> Reserved = [];

    /// <summary>
    /// The folder of the reservations' lock files (<c>serverlessserve-ports-USER</c> in the temporary folder), shared by
    /// every process of the user; null where it cannot be created (ports are then not reserved).
    /// </summary>
    public static string? ReservationDirectory { get; } = CreateReservationDirectory();

    /// <summary>A TCP port on 127.0.0.1 that is free right now, and that no outgoing connection takes meanwhile.</summary>
    public static int Next() => NextRun(1);

    /// <summary>
    /// The first of <paramref name="count"/> consecutive ports on 127.0.0.1 that are all free right now (for a process
    /// that binds a port and the ones after it, as Azurite's queue and table ports follow ssctl's blob port). This
    /// process hands none of them out again.
    /// </summary>
    public static int NextRun(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (Range is { } range && range.High - range.Low + 1 >= count)
        {
            var size = (uint)(range.High - range.Low + 1);
            for (var tried = 0; tried < size; tried += count)
            {
                var first = (uint)(Interlocked.Add(ref _cursor, count) - count + 1) % size;
                // Reserved first, then checked free: a port another process reserved and has not bound yet is skipped.
                if (first + count <= size && TryReserveRun(range.Low + (int)first, count))
                {
                    if (AllFree(range.Low + (int)first, count))
                    {
                        return range.Low + (int)first;
                    }

                    Release(range.Low + (int)first, count);
                }
            }
        }

        for (var tried = 0; tried < 1000; tried++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (port + count - 1 <= IPEndPoint.MaxPort && AllFree(port + 1, count - 1))
            {
                if (!TryReserveRun(port, count))
                {
                    continue;
                }

                return port;
            }
        }

        throw new InvalidOperationException($"No {count} consecutive free ports found on 127.0.0.1.");
    }

    /// <summary>
    /// The ports <see cref="Next"/> picks from, given the kernel's range for outgoing connections (null: unknown):
    /// from <see cref="LowestPicked"/> to just below that range, when that is at least 1,000 ports; else null (the
    /// kernel picks).
    /// </summary>
    public static (int Low, int High)? PickRange((int Low, int High)? ephemeral) =>
        ephemeral is { } range && range.Low - LowestPicked >= SmallestRange ? (LowestPicked, range.Low - 1) : null;

    /// <summary>The kernel's range for outgoing connections' ports (Linux), or null where it cannot be read.</summary>
    public static (int Low, int High)? ReadEphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            return parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var low)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var high)
                && low is > 0 and <= 65535 && high >= low && high <= 65535
                ? (low, high)
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Reserves <paramref name="port"/> for this process until it exits: true when it is now this process's (or already
    /// was), false when another live process holds it. Always true where ports are not reserved.
    /// </summary>
    public static bool TryReserve(int port)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        if (LockFile(port) is not { } lockFile)
        {
            return true;
        }

        lock (Reserved)
        {
            if (Reserved.ContainsKey(port))
            {
                return true;
            }

            try
            {
                // FileShare.None on Unix is an exclusive flock(2), held while the stream is open: another process's open
                // fails at once, and the lock goes with the process however it ends. The file itself stays, empty.
                Reserved[port] = new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                return true;
            }
            catch (IOException) when (File.Exists(lockFile))
            {
                // Another process holds the lock.
                return false;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The file cannot be made or opened (permissions, a full or read-only disk): unreserved, as without the folder.
                return true;
            }
        }
    }

    /// <summary>The lock file that reserves <paramref name="port"/> (null where ports are not reserved).</summary>
    public static string? LockFile(int port) =>
        ReservationDirectory is null ? null : Path.Combine(ReservationDirectory, port.ToString(CultureInfo.InvariantCulture) + ".lock");

    // Reserves every port of the run, or none of them; one this process handed out before is not handed out again.
    private static bool TryReserveRun(int first, int count)
    {
        for (var port = first; port < first + count; port++)
        {
            bool handedOut;
            lock (Reserved)
            {
                handedOut = Reserved.ContainsKey(port);
            }

            if (handedOut || !TryReserve(port))
            {
                Release(first, port - first);
                return false;
            }
        }

        return true;
    }

    private static void Release(int first, int count)
    {
        lock (Reserved)
        {
            for (var port = first; port < first + count; port++)
            {
                if (Reserved.Remove(port, out var stream))
                {
                    stream.Dispose();
                }
            }
        }
    }

    private static string? CreateReservationDirectory()
    {
        try
        {
            // One folder per user: another user's lock files could not be opened for writing.
            return Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "serverlessserve-ports-" + Environment.UserName)).FullName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when nothing listens on <paramref name="port"/> at 127.0.0.1.</summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool AllFree(int first, int count)
    {
        for (var port = first; port < first + count; port++)
        {
            if (!IsFree(port))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Waits until a TCP connection to 127.0.0.1:<paramref name="port"/> succeeds.</summary>
    public static async Task WaitForListenerAsync(int port, TimeSpan timeout, Func<bool>? stillRunning, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && (stillRunning?.Invoke() ?? true))
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
