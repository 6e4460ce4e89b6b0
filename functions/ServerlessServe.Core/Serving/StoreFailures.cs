using Azure;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// Whether an exception from a storage client means the store could not be reached (a 503 for the request, never a
/// 500): the service's answer, the transport, a timeout or cancellation that is not the caller leaving, the credential
/// failing to get a token (Azure.Identity's exceptions, which this assembly does not reference), or an aggregate of
/// only such failures. Shared by every store on the request path (catalog, request keys and nonces, budgets).
/// </summary>
public static class StoreFailures
{
    public static bool IsUnreachable(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        RequestFailedException or HttpRequestException or IOException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(e => IsUnreachable(e, cancellationToken)),
        _ => exception.GetType().Namespace == "Azure.Identity",
    };
}
