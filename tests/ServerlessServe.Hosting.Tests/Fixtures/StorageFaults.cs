using System.Net;

namespace ServerlessServe.Hosting.Tests.Fixtures;

/// <summary>
/// Faults in the gateway's storage client, armed by a test: while armed, every write (PUT) to a path under the prefix
/// is answered 503 by a handler in the client's own HTTP pipeline, as a storage service that is overloaded answers;
/// the request never reaches Azurite. Everything else goes through.
/// </summary>
public sealed class StorageFaults
{
    private volatile string? _failWritesUnder;

    /// <summary>
    /// Writes to blobs of <paramref name="container"/> whose names start with <paramref name="blobPrefix"/> answer 503
    /// until <see cref="Clear"/>; narrow, so that another test's work in the same stack (its jobs' steps) goes through.
    /// </summary>
    public void FailWritesTo(string container, string blobPrefix) => _failWritesUnder = "/devstoreaccount1/" + container + "/" + blobPrefix;

    /// <summary>Every request goes through again.</summary>
    public void Clear() => _failWritesUnder = null;

    /// <summary>The handler the gateway's storage client sends through.</summary>
    internal DelegatingHandler Handler() => new FaultHandler(this);

    private sealed class FaultHandler(StorageFaults faults) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (faults._failWritesUnder is { } prefix && request.Method == HttpMethod.Put
                && request.RequestUri?.AbsolutePath.StartsWith(prefix, StringComparison.Ordinal) == true)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    RequestMessage = request,
                    Content = new StringContent(string.Empty),
                });
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
