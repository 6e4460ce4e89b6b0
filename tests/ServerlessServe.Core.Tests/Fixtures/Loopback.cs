namespace ServerlessServe.Core.Tests.Fixtures;

/// <summary>Loopback addresses for tests of a store that cannot be reached.</summary>
public static class Loopback
{
    /// <summary>A loopback port nothing listens on (just freed): a connection to it is refused.</summary>
    public static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
