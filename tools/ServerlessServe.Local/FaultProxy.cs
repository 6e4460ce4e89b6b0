using System.Net;
using System.Net.Sockets;

namespace ServerlessServe.Local;

/// <summary>
/// A TCP forwarder on a loopback port in front of a real service (Azurite, an app), for fault tests: it can cut the
/// network (<see cref="StopAsync"/>: connections refused, open ones reset), hold every byte in both directions
/// (<see cref="Pause"/>: a store that stops answering, connections stay open), and slow every forwarded chunk
/// (<see cref="Delay"/>). The service and its data are untouched. Loopback only.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _acceptLoop;
    private TaskCompletionSource _flowing = Completed();
    private long _delayTicks;

    /// <summary>A proxy for <c>127.0.0.1:<paramref name="targetPort"/></c> on a free loopback port (started by <see cref="Start"/>).</summary>
    public FaultProxy(int targetPort)
    {
        _targetPort = targetPort;
        Port = FreePorts.Next();
    }

    /// <summary>The proxy's own loopback port.</summary>
    public int Port { get; }

    /// <summary>Added before each forwarded chunk, both directions. Default zero.</summary>
    public TimeSpan Delay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _delayTicks));
        set => Interlocked.Exchange(ref _delayTicks, value.Ticks);
    }

    /// <summary>True while bytes are held (<see cref="Pause"/>).</summary>
    public bool IsPaused => !Volatile.Read(ref _flowing).Task.IsCompleted;

    /// <summary>Starts accepting and forwarding (again, after <see cref="StopAsync"/>).</summary>
    public void Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _stop = new CancellationTokenSource();
        _acceptLoop = AcceptAsync(listener, _stop.Token);
    }

    /// <summary>Holds every byte in both directions from now on; connections are still accepted and stay open.</summary>
    public void Pause()
    {
        var current = Volatile.Read(ref _flowing);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _flowing, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }

    /// <summary>Lets the held bytes and everything after them through.</summary>
    public void Resume() => Volatile.Read(ref _flowing).TrySetResult();

    /// <summary>Cuts the network: the port refuses connections and open ones are reset.</summary>
    public async Task StopAsync()
    {
        if (_listener is null)
        {
            return;
        }

        await _stop!.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        _listener = null;
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Client.LingerState = new LingerOption(true, 0); // reset, do not drain
                connection.Dispose();
            }

            _connections.Clear();
        }

        try
        {
            await _acceptLoop!.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _stop.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        Resume();
        await StopAsync().ConfigureAwait(false);
    }

    private static TaskCompletionSource Completed()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source;
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ForwardAsync(client, cancellationToken);
        }
    }

    private async Task ForwardAsync(TcpClient client, CancellationToken cancellationToken)
    {
        var upstream = new TcpClient();
        lock (_connections)
        {
            _connections.Add(client);
            _connections.Add(upstream);
        }

        try
        {
            client.NoDelay = true;
            upstream.NoDelay = true;
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, cancellationToken).ConfigureAwait(false);
            var down = client.GetStream();
            var up = upstream.GetStream();
            // A side that ends its sending (EOF) is half-closed onward and the other direction goes on: a client that
            // sends its request and then shuts down its send side still gets the answer. Before 2026-12-07 the first
            // EOF ended the whole connection, answer included (found in review). An error in either ends both.
            var toUpstream = PumpAsync(down, up, cancellationToken);
            var toClient = PumpAsync(up, down, cancellationToken);
            var first = await Task.WhenAny(toUpstream, toClient).ConfigureAwait(false);
            if (await first.ConfigureAwait(false))
            {
                await (first == toUpstream ? toClient : toUpstream).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The proxy was stopped or a side closed: the connection ends.
        }
        finally
        {
            lock (_connections)
            {
                _connections.Remove(client);
                _connections.Remove(upstream);
            }

            client.Dispose();
            upstream.Dispose();
        }
    }

    // True when from ended cleanly (its EOF passed on as a half-close of to), false when either side failed.
    private async Task<bool> PumpAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    await Volatile.Read(ref _flowing).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                    to.Socket.Shutdown(SocketShutdown.Send);
                    return true;
                }

                await Volatile.Read(ref _flowing).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (Delay is { Ticks: > 0 } delay)
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Either side closed, or the proxy stopped.
            return false;
        }
    }
}
