using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Standalone;

/// <summary>
/// Gives Kestrel's own refusals, which it makes before the app runs (431 headers too large, 414 request target too long,
/// 400 malformed request line or header, 408 headers not received in time, 505), the same JSON error body as every other
/// refusal. Kestrel offers no hook for them, so this connection middleware watches what Kestrel writes: an HTTP/1.1
/// response head of status 400 or more, written whole in one piece, with <c>Content-Length: 0</c>,
/// <c>Connection: close</c> and no <c>Content-Type</c> — the form only Kestrel's early refusals take, since every answer
/// of the app to a refusal has a body (<see cref="ErrorBodyMiddleware"/>) — is replaced by the same head with the error
/// body, its length and type. Everything else passes untouched.
/// </summary>
internal static class KestrelRefusalBodies
{
    private static readonly byte[] ContentLengthZero = "\r\nContent-Length: 0\r\n"u8.ToArray();
    private static readonly byte[] ConnectionClose = "\r\nConnection: close\r\n"u8.ToArray();
    private static readonly byte[] ContentType = "\r\nContent-Type:"u8.ToArray();
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    // The connection's item that says whether the app is answering a request on it.
    private static readonly object StateKey = new();

    /// <summary>Adds the middleware to every endpoint Kestrel listens on.</summary>
    public static void UseOn(ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        listen.Use(next => context =>
        {
            var state = new ConnectionState();
            context.Items[StateKey] = state;
            context.Transport = new Pipe(context.Transport, state);
            return next(context);
        });
    }

    /// <summary>
    /// The first middleware of the app: while the app answers a request, nothing written on its connection is rewritten.
    /// Kestrel writes a response body through the same writer a block at a time, and a block can hold anything the app
    /// sends (a model's binary output); one shaped like an early refusal's head was rewritten, the body's bytes changed
    /// and some 600 more sent past its declared length (found in review 2026-12-07). Kestrel's early refusals are written
    /// when no request is being answered, so they still are.
    /// </summary>
    public static Task MarkAppResponseAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(StateKey, out var item) == true && item is ConnectionState state)
        {
            state.Answering = true;
            context.Response.OnCompleted(() =>
            {
                state.Answering = false;
                return Task.CompletedTask;
            });
        }

        return next(context);
    }

    private sealed class ConnectionState
    {
        private volatile bool _answering;

        public bool Answering
        {
            get => _answering;
            set => _answering = value;
        }
    }

    /// <summary>The replacement of <paramref name="written"/> when it is an early refusal's head; otherwise null.</summary>
    internal static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (written.Length < 16 || written.Length > 4096 || !written.StartsWith("HTTP/1.1 "u8) || written[9] is < (byte)'4' or > (byte)'5'
            || !written.EndsWith(HeadEnd) || written.IndexOf(ContentLengthZero) < 0 || written.IndexOf(ConnectionClose) < 0
            || written.IndexOf(ContentType) >= 0
            || !int.TryParse(written.Slice(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            return null;
        }

        var body = ErrorBodies.For(status);
        var head = Encoding.ASCII.GetString(written[..^2]).Replace(
            "\r\nContent-Length: 0\r\n",
            "\r\nContent-Length: " + body.Length.ToString(CultureInfo.InvariantCulture) + "\r\n",
            StringComparison.Ordinal);
        var extra = "Content-Type: " + V2Results.Json + "\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n";
        return [.. Encoding.ASCII.GetBytes(head + extra), .. body];
    }

    private sealed class Pipe(IDuplexPipe inner, ConnectionState state) : IDuplexPipe
    {
        public PipeReader Input => inner.Input;

        public PipeWriter Output { get; } = new Writer(inner.Output, state);
    }

    private sealed class Writer(PipeWriter inner, ConnectionState state) : PipeWriter
    {
        private Memory<byte> _lent;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lent = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

        public override void Advance(int bytes)
        {
            if (bytes > 0 && bytes <= _lent.Length && !state.Answering && Rewrite(_lent.Span[..bytes]) is { } replacement)
            {
                // Not advanced: the lent buffer is dropped and the replacement written in its place.
                _lent = default;
                inner.Write(replacement);
                return;
            }

            _lent = default;
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
    }
}
