using System.Net;

namespace ServerlessServe.Hosting.Tests.Fixtures;

/// <summary>
/// Faults in the gateway's storage client, armed by a test: while armed, every write (PUT), or every read (GET), of a
/// path under the prefix is answered by a handler in the client's own HTTP pipeline with the status the test chose (503,
/// as a storage service that is overloaded answers; 403, as one without the app's role assignment); the request never
/// reaches Azurite. Everything else goes through.
/// </summary>
public sealed class StorageFaults
{
    private volatile Fault? _fault;

    /// <summary>
    /// Writes to blobs of <paramref name="container"/> whose names start with <paramref name="blobPrefix"/> answer 503
    /// until <see cref="Clear"/>; narrow, so that another test's work in the same stack (its jobs' steps) goes through.
    /// </summary>
    public void FailWritesTo(string container, string blobPrefix) =>
        _fault = new(HttpMethod.Put, PathOf(container, blobPrefix), HttpStatusCode.ServiceUnavailable);

    /// <summary>
    /// Reads of blobs of <paramref name="container"/> whose names start with <paramref name="blobPrefix"/> answer
    /// <paramref name="status"/> until <see cref="Clear"/> (the storage client retries a 503, and gives up on it after
    /// its retries; a 403 it does not retry).
    /// </summary>
    public void FailReadsOf(string container, string blobPrefix, HttpStatusCode status) =>
        _fault = new(HttpMethod.Get, PathOf(container, blobPrefix), status);

    /// <summary>Every request goes through again.</summary>
    public void Clear() => _fault = null;

    /// <summary>The handler the gateway's storage client sends through.</summary>
    internal DelegatingHandler Handler() => new FaultHandler(this);

    // An empty prefix: every request on the container, its listings too (their path is the container's own).
    private static string PathOf(string container, string blobPrefix) =>
        "/devstoreaccount1/" + container + (blobPrefix.Length == 0 ? string.Empty : "/" + blobPrefix);

    private sealed record Fault(HttpMethod Method, string PathPrefix, HttpStatusCode Status);

    private sealed class FaultHandler(StorageFaults faults) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (faults._fault is { } fault && request.Method == fault.Method
                && request.RequestUri?.AbsolutePath.StartsWith(fault.PathPrefix, StringComparison.Ordinal) == true)
            {
                return Task.FromResult(new HttpResponseMessage(fault.Status)
                {
                    RequestMessage = request,
                    Content = new StringContent(string.Empty),
                });
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
