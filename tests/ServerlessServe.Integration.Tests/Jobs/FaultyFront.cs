using System.Diagnostics;
using System.Net;
using System.Text;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Jobs;

/// <summary>
/// A loopback front for the real gateway that answers the first <c>failures</c> job-status requests itself (as a
/// gateway that is restarting, or one that refuses), then forwards every request to the gateway unchanged. It records
/// when each status request came, so a test can see how a client waits.
/// </summary>
public sealed class FaultyFront : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpClient _gateway;
    private readonly Task _serving;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<TimeSpan> _statusRequests = [];
    private readonly int _failures;
    private readonly int _status;
    private readonly string _body;
    private readonly TimeSpan? _retryAfter;

    private FaultyFront(Uri gateway, int failures, int status, string body, TimeSpan? retryAfter)
    {
        _gateway = new HttpClient { BaseAddress = new Uri(gateway.GetLeftPart(UriPartial.Authority)) };
        (_failures, _status, _body, _retryAfter) = (failures, status, body, retryAfter);
        var port = FreePorts.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/api/");
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The V2 base URL to give a client instead of the gateway's.</summary>
    public Uri BaseUrl { get; }

    /// <summary>When each <c>GET /api/jobs/{id}</c> arrived, from the front's start.</summary>
    public IReadOnlyList<TimeSpan> StatusRequests
    {
        get
        {
            lock (_statusRequests)
            {
                return [.. _statusRequests];
            }
        }
    }

    public static FaultyFront Start(Uri gateway, int failures, int status, string body, TimeSpan? retryAfter = null) =>
        new(gateway, failures, status, body, retryAfter);

    public async ValueTask DisposeAsync()
    {
        _listener.Close();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
            // Closed while waiting for a request.
        }

        _gateway.Dispose();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            var context = await _listener.GetContextAsync();
            try
            {
                await AnswerAsync(context);
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.PathAndQuery;
        if (context.Request.HttpMethod == "GET" && path.StartsWith("/api/jobs/", StringComparison.Ordinal))
        {
            int seen;
            lock (_statusRequests)
            {
                _statusRequests.Add(_clock.Elapsed);
                seen = _statusRequests.Count;
            }

            if (seen <= _failures)
            {
                context.Response.StatusCode = _status;
                context.Response.ContentType = "application/json";
                if (_retryAfter is { } wait)
                {
                    context.Response.AddHeader("Retry-After", ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(_body));
                return;
            }
        }

        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), path);
        if (context.Request.HasEntityBody)
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            forward.Content = new ByteArrayContent(body.ToArray());
            forward.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
        }

        forward.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers["Authorization"]);
        using var answer = await _gateway.SendAsync(forward);
        context.Response.StatusCode = (int)answer.StatusCode;
        context.Response.ContentType = answer.Content.Headers.ContentType?.ToString();
        await context.Response.OutputStream.WriteAsync(await answer.Content.ReadAsByteArrayAsync());
    }
}
