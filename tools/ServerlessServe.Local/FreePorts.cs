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
/// and two processes rarely meet; a port something listens on is skipped. Where that range is unknown or too small,
/// the kernel picks, as before.
/// </remarks>
public static class FreePorts
{
    /// <summary>The lowest port picked: above the ports that local services and this stack use by default.</summary>
    public const int LowestPicked = 20000;

    private const int SmallestRange = 1000;

    private static readonly (int Low, int High)? Range = PickRange(ReadEphemeralRange());
    private static int _cursor = Random.Shared.Next(0, int.MaxValue / 2);

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
                if (first + count <= size && AllFree(range.Low + (int)first, count))
                {
                    return range.Low + (int)first;
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
