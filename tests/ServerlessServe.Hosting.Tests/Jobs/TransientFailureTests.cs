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
        Assert.Equal(transient, JobEndpoints.IsTransient(new RequestFailedException(status, "storage")));

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
        Assert.Equal(transient, JobEndpoints.IsTransient(new RpcException(new Status(code, "backend"))));

    [Fact]
    public void RetriesGivenUp_TransientOnlyWhenEveryAttemptWas()
    {
        Assert.True(JobEndpoints.IsTransient(new AggregateException(new RequestFailedException(0, "a"), new HttpRequestException("b"))));
        Assert.False(JobEndpoints.IsTransient(new AggregateException(new RequestFailedException(503, "a"), new RequestFailedException(403, "b"))));
        Assert.False(JobEndpoints.IsTransient(new AggregateException()));
    }

    [Fact]
    public void Bugs_AreNotTransient()
    {
        Assert.False(JobEndpoints.IsTransient(new InvalidOperationException()));
        Assert.False(JobEndpoints.IsTransient(new NullReferenceException()));
        Assert.False(JobEndpoints.IsTransient(new OperationCanceledException()));
        Assert.True(JobEndpoints.IsTransient(new TimeoutException()));
    }
}
