using Microsoft.AspNetCore.Http;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Hosting.Http;

/// <summary>
/// Which failures of storage a route answers 503 with <c>Retry-After</c> (transient: a retry soon may succeed) and which
/// stay a 500 (permanent: answered 503, a client would retry it for ever). The job routes and the audit proof route
/// classify their storage failures here; the job routes add the durable backend's gRPC failures.
/// </summary>
public static class TransientFailures
{
    /// <summary>The refusal of a request that storage failed transiently: 503 "storage unavailable; try again later", <c>Retry-After: 1</c>.</summary>
    public static Refusal StorageUnavailable { get; } = Refusal.Unavailable("storage unavailable; try again later") with { RetryAfter = TimeSpan.FromSeconds(1) };

    /// <summary>
    /// <see cref="IsTransient"/> of <paramref name="exception"/> while <paramref name="request"/>'s caller is still
    /// there; a failure once it has left is its leaving, answered as such.
    /// </summary>
    public static bool IsTransientFailure(Exception exception, HttpRequest request, Func<Exception, bool>? alsoTransient = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var callerLeft = request.HttpContext.RequestAborted;
        return !callerLeft.IsCancellationRequested && IsTransient(exception, callerLeft, alsoTransient);
    }

    /// <summary>
    /// A transient failure: a storage answer of 408, 429 or 5xx, or none (status 0), the storage client's retries given
    /// up on such answers (every one of them transient), a connection that failed, a timeout, and a cancellation while
    /// <paramref name="callerLeft"/> has not fired (the storage client's own network timeout, thrown as a cancellation);
    /// and whatever <paramref name="alsoTransient"/> says is. A permanent fault (403 from a missing role assignment, a
    /// container that is not there) and anything else is not.
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken callerLeft, Func<Exception, bool>? alsoTransient = null) => exception switch
    {
        _ when alsoTransient?.Invoke(exception) == true => true,
        Azure.RequestFailedException { Status: 0 or 408 or 429 or >= 500 } => true,
        HttpRequestException or TimeoutException or IOException => true,
        OperationCanceledException => !callerLeft.IsCancellationRequested,
        AggregateException { InnerExceptions.Count: > 0 } all => all.InnerExceptions.All(e => IsTransient(e, callerLeft, alsoTransient)),
        _ => false,
    };
}
