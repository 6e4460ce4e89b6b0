using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Hosting.Standalone;

namespace ServerlessServe.Hosting.Tests.Standalone;

/// <summary>The standalone host's last resort, over a real <see cref="DefaultHttpContext"/>.</summary>
public sealed class LastResortMiddlewareTests
{
    /// <summary>
    /// A cancellation the caller did not cause (a timeout of the app's own, such as the job route's bounded schedule
    /// call) is a V2 500 with its log line redacted; before, every cancellation passed through to the server, whose 500
    /// had an empty body.
    /// </summary>
    [Fact]
    public async Task CancelledNotByTheCaller_V2ErrorBody500()
    {
        var logger = new FakeLogger<LastResortMiddleware>();
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        var middleware = new LastResortMiddleware(_ => throw new TaskCanceledException("internal timeout with secret-detail"), logger);

        await middleware.InvokeAsync(context);

        Assert.Equal(StatusCodes.Status500InternalServerError, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        var body = await new StreamReader(context.Response.Body, Encoding.UTF8).ReadToEndAsync();
        Assert.Contains("\"error\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-detail", body, StringComparison.Ordinal);
        Assert.NotEmpty(logger.Collector.GetSnapshot());
        Assert.Equal("nosniff", context.Response.Headers.XContentTypeOptions.ToString());
        Assert.Equal("no-store", context.Response.Headers.CacheControl.ToString());
    }

    /// <summary>The caller gone: no answer written; the cancellation goes on to the server, which drops the connection quietly.</summary>
    [Fact]
    public async Task CallerLeft_NoAnswer()
    {
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync();
        var context = new DefaultHttpContext { RequestAborted = aborted.Token };
        context.Response.Body = new MemoryStream();
        var middleware = new LastResortMiddleware(_ => throw new OperationCanceledException(aborted.Token), new FakeLogger<LastResortMiddleware>());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => middleware.InvokeAsync(context));

        Assert.Equal(0, context.Response.Body.Length);
    }
}
