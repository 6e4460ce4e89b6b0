using Azure;
using Grpc.Core;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// Which failures of storage or the durable backend a job submission answers 503 with Retry-After (transient), and which
/// stay a 500 (permanent: a retry would fail the same way for ever, each time with its own audit record).
/// </summary>
public sealed class TransientFailureTests
{
    [Theory]
    [InlineData(0, true)]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    public void StorageAnswer(int status, bool transient) =>
        Assert.Equal(transient, JobEndpoints.IsTransient(new RequestFailedException(status, "storage"), default));

    [Theory]
    [InlineData(StatusCode.Unavailable, true)]
    [InlineData(StatusCode.DeadlineExceeded, true)]
    [InlineData(StatusCode.Aborted, true)]
    [InlineData(StatusCode.InvalidArgument, false)]
    [InlineData(StatusCode.Unimplemented, false)]
    [InlineData(StatusCode.Internal, false)]
    [InlineData(StatusCode.ResourceExhausted, false)]
    [InlineData(StatusCode.PermissionDenied, false)]
    public void BackendCall(StatusCode code, bool transient) =>
        Assert.Equal(transient, JobEndpoints.IsTransient(new RpcException(new Status(code, "backend")), default));

    [Fact]
    public void RetriesGivenUp_TransientOnlyWhenEveryAttemptWas()
    {
        Assert.True(JobEndpoints.IsTransient(new AggregateException(new RequestFailedException(0, "a"), new HttpRequestException("b")), default));
        Assert.False(JobEndpoints.IsTransient(new AggregateException(new RequestFailedException(503, "a"), new RequestFailedException(403, "b")), default));
        Assert.False(JobEndpoints.IsTransient(new AggregateException(), default));

        // The storage client's network timeout is a cancellation of each attempt; given up, an aggregate of them.
        Assert.True(JobEndpoints.IsTransient(new AggregateException(new RequestFailedException(503, "a"), new TaskCanceledException("timed out")), default));
    }

    [Fact]
    public void Cancellation_TransientUnlessTheCallerLeft()
    {
        using var left = new CancellationTokenSource();
        left.Cancel();

        Assert.True(JobEndpoints.IsTransient(new TaskCanceledException("the storage client's network timeout"), default));
        Assert.False(JobEndpoints.IsTransient(new OperationCanceledException(left.Token), left.Token));
        Assert.False(JobEndpoints.IsTransient(new AggregateException(new TaskCanceledException()), left.Token));
    }

    [Fact]
    public void Bugs_AreNotTransient()
    {
        Assert.False(JobEndpoints.IsTransient(new InvalidOperationException(), default));
        Assert.False(JobEndpoints.IsTransient(new NullReferenceException(), default));
        Assert.False(JobEndpoints.IsTransient(new ArgumentException(), default));
        Assert.True(JobEndpoints.IsTransient(new TimeoutException(), default));
    }
}
