using System.Net;
using System.Net.Sockets;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>
/// A TCP forwarder on a loopback port in front of a real service, used to cut the network and restore it: while it is
/// stopped, connections to its port are refused and open ones are reset — a storage outage as a client sees it, with
/// the service and its data untouched. The audit tests put one in front of the shared Azurite (<c>AzuriteFixture</c>)
/// rather than stopping Azurite itself, whose only stop that keeps its metadata (a graceful one) can take minutes.
/// </summary>
internal sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly List<TcpClient> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _acceptLoop;

    public LoopbackProxy(int targetPort)
    {
        _targetPort = targetPort;
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public int Port { get; }

    public void Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _stop = new CancellationTokenSource();
        _acceptLoop = AcceptAsync(listener, _stop.Token);
    }

    public async Task StopAsync()
    {
        if (_listener is null)
        {
            return;
        }

        await _stop!.CancelAsync();
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
            await _acceptLoop!;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
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
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, cancellationToken);
            var down = client.GetStream();
            var up = upstream.GetStream();
            await Task.WhenAny(down.CopyToAsync(up, cancellationToken), up.CopyToAsync(down, cancellationToken));
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
}
