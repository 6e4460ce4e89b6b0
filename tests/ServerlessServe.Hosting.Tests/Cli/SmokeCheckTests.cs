using ServerlessServe.Cli.Commands;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Cli;

/// <summary>
/// <c>ssctl up</c>'s first request: a gateway that does not answer is a failed first request, reported with the stack
/// left running. It threw (found in review, 2026-12-07): "ssctl: cancelled", exit 2, and the stack torn down.
/// </summary>
public sealed class SmokeCheckTests
{
    [Fact]
    public async Task InferAsync_NoAnswer_AFailedFirstRequestNotAnException()
    {
        var result = await SmokeCheck.InferAsync(new Uri($"http://127.0.0.1:{Loopback.ClosedPort()}/api/"), "token", CancellationToken.None);

        Assert.False(result.Ok);
        Assert.Equal(0, result.Status);
        Assert.StartsWith("no answer", result.Body, StringComparison.Ordinal);
    }
}
