using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Core.Serving;

/// <summary>
/// Where the gateway's infer stage sends a validated request: the inference app (over HTTP with a service token, in
/// ServerlessServe.Hosting). Refuses with <see cref="Pipeline.RefusedException"/>; transient failures are
/// <see cref="Pipeline.RefusalKind.Unavailable"/>.
/// </summary>
public interface IInferenceBackend
{
    /// <summary>Runs <paramref name="request"/> on exactly <paramref name="model"/> (the version the gateway verified).</summary>
    Task<InferenceResponse> InferAsync(VerifiedModelVersion model, InferenceRequest request, string requestId, CancellationToken cancellationToken);

    /// <summary>True when the backend answers its readiness probe.</summary>
    Task<bool> IsReadyAsync(CancellationToken cancellationToken);
}
