using Grpc.Core;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// How a job wait (Prefer: wait, an orchestrated model's wait) sees its end when the durable client is a gRPC client:
/// a token that fires during a call comes back as RpcException(Cancelled), and must read as the wait's end.
/// </summary>
public sealed class WaitEndedTests
{
    [Fact]
    public async Task CancelledCallAfterTheWaitEnded_IsTheWaitsEnd()
    {
        using var wait = new CancellationTokenSource();
        await wait.CancelAsync();
        var cancelled = new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client."));

        var ended = await Assert.ThrowsAsync<OperationCanceledException>(() => JobEndpoints.WaitEndedAsCancelled(Task.FromException<int>(cancelled), wait.Token));
        Assert.Equal(wait.Token, ended.CancellationToken);
        Assert.Same(cancelled, ended.InnerException);
    }

    [Fact]
    public async Task CancelledCallWhileTheWaitRuns_IsAFailureOfTheCall()
    {
        // Not the wait's end (the backend or the channel cancelled it): it stays what it is.
        var cancelled = new RpcException(new Status(StatusCode.Cancelled, "cancelled by the server"));
        Assert.Same(cancelled, await Assert.ThrowsAsync<RpcException>(() => JobEndpoints.WaitEndedAsCancelled(Task.FromException<int>(cancelled), CancellationToken.None)));
    }

    [Fact]
    public async Task OtherFailuresAfterTheWaitEnded_StayFailures()
    {
        using var wait = new CancellationTokenSource();
        await wait.CancelAsync();
        var unavailable = new RpcException(new Status(StatusCode.Unavailable, "no backend"));
        Assert.Same(unavailable, await Assert.ThrowsAsync<RpcException>(() => JobEndpoints.WaitEndedAsCancelled(Task.FromException<int>(unavailable), wait.Token)));
        Assert.Equal(7, await JobEndpoints.WaitEndedAsCancelled(Task.FromResult(7), wait.Token));
    }
}
