using System.Net.Sockets;
using System.Text;

namespace ServerlessServe.Hosting.Tests.Fixtures;

/// <summary>
/// HTTP/1.1 over a raw loopback socket, for requests no HTTP client sends: a body shorter than its Content-Length, a
/// stalled or trickled body, broken chunked framing, an upload cut off. Every wait is bounded (<see cref="Patience"/>),
/// so a server that never answers fails the test instead of hanging it.
/// </summary>
public sealed class RawHttp : IAsyncDisposable
{
    /// <summary>The longest any read waits for the server before the test fails.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawHttp(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public Socket Socket => _client.Client;

    public static async Task<RawHttp> ConnectAsync(Uri server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server.Host, server.Port);
        return new RawHttp(client);
    }

    /// <summary>The request line and headers (CRLF added), then the blank line.</summary>
    public static byte[] Head(string method, Uri server, string path, params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(server);
        var text = new StringBuilder()
            .Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(server.Authority).Append("\r\n");
        foreach (var header in headers)
        {
            text.Append(header).Append("\r\n");
        }

        return Encoding.ASCII.GetBytes(text.Append("\r\n").ToString());
    }

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    public Task SendAsync(string ascii) => SendAsync(Encoding.ASCII.GetBytes(ascii));

    /// <summary>Sends the end of the request side (a FIN): the server sees the body end where it is.</summary>
    public void EndSending() => _client.Client.Shutdown(SocketShutdown.Send);

    /// <summary>Closes with a reset (RST), as a client that crashes or is killed.</summary>
    public void Reset()
    {
        _client.Client.LingerState = new LingerOption(true, 0);
        _client.Close();
    }

    /// <summary>
    /// Reads one response: status line, headers and a Content-Length body (or up to the close). Null when the server
    /// closed the connection without answering.
    /// </summary>
    public async Task<RawResponse?> ReadResponseAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int headEnd;
        while ((headEnd = IndexOfHeadEnd(buffer)) < 0)
        {
            int read;
            try
            {
                read = await _stream.ReadAsync(chunk, timeout.Token);
            }
            catch (IOException)
            {
                read = 0;
            }

            if (read == 0)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        var all = buffer.ToArray();
        var lines = Encoding.ASCII.GetString(all, 0, headEnd).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var body = new MemoryStream();
        body.Write(all, headEnd + 4, all.Length - headEnd - 4);
        var length = headers.TryGetValue("Content-Length", out var declared) ? long.Parse(declared, System.Globalization.CultureInfo.InvariantCulture) : long.MaxValue;
        while (body.Length < length)
        {
            int read;
            try
            {
                read = await _stream.ReadAsync(chunk, timeout.Token);
            }
            catch (IOException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            body.Write(chunk, 0, read);
        }

        return new RawResponse(status, headers, body.ToArray());
    }

    /// <summary>
    /// Every byte the server sends until it closes the connection, unparsed: for answers whose framing is the point
    /// (a HEAD's answer declares a length it must not send, so <see cref="ReadResponseAsync"/> would wait for it).
    /// </summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        var all = new MemoryStream();
        await _stream.CopyToAsync(all, timeout.Token);
        return all.ToArray();
    }

    private static int IndexOfHeadEnd(MemoryStream buffer)
    {
        var bytes = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        return bytes.IndexOf("\r\n\r\n"u8);
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}
