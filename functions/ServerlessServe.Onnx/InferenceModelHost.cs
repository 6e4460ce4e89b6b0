using Azure;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Onnx;

/// <summary>
/// What the inference app serves: resolves a model through the <see cref="ModelCatalog"/>, loads its bytes from the
/// <see cref="ModelStore"/> with full verification (signature, digests, policy, no external data) and keeps one session
/// per version in the <see cref="OnnxSessionCache"/>. A version that cannot be loaded is marked unavailable; without an
/// explicit version the previous good version keeps serving.
/// </summary>
internal sealed class InferenceModelHost
{
    private const int MaxFallbacks = 16;

    private readonly ModelCatalog _catalog;
    private readonly OnnxSessionCache _sessions;
    private readonly ILogger _logger;

    public InferenceModelHost(ModelCatalog catalog, OnnxSessionCache sessions, ILogger<InferenceModelHost> logger)
    {
        _catalog = catalog ?? throw new ArgumentNullException(nameof(catalog));
        _sessions = sessions ?? throw new ArgumentNullException(nameof(sessions));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    /// <summary>
    /// The loaded model for <paramref name="name"/> and <paramref name="version"/> (newest good version when null).
    /// Throws <see cref="RefusedException"/>: invalid name, not found, unavailable (failed verification,
    /// store unreachable, or the execution provider missing).
    /// </summary>
    public async Task<LoadedModel> GetAsync(string name, string? version, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxFallbacks; attempt++)
        {
            var resolved = await _catalog.ResolveAsync(name, version, cancellationToken).ConfigureAwait(false);
            if (_sessions.TryGet(resolved.ManifestDigest, out var cached))
            {
                return cached!;
            }

            var resolvedVersion = resolved.Manifest.Version;
            try
            {
                return await _sessions.GetOrCreateAsync(
                    resolved,
                    token => _catalog.Store.LoadAsync(name, resolvedVersion, token),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ModelVerificationException or ModelNotFoundException)
            {
                Log.VersionUnservable(_logger, name, resolvedVersion, ex is ModelVerificationException mv ? mv.Failure.ToString() : "missing");
                _catalog.MarkUnavailable(name, resolvedVersion);
                if (version is not null)
                {
                    // Told apart from a run's version-scoped failure, which a caller's input can cause: on this one the
                    // gateway falls back to the version before (it always names the version it resolved, so the
                    // fallback below is never reached from it).
                    throw new RefusedException(ModelCatalog.VersionUnservable);
                }
            }
            catch (ExecutionProviderUnavailableException)
            {
                throw RefusedException.Unavailable("inference unavailable");
            }
            catch (Exception ex) when (ex is RequestFailedException or AggregateException or HttpRequestException or IOException or TimeoutException)
            {
                throw RefusedException.Unavailable("model store unavailable");
            }
        }

        throw new RefusedException(ModelCatalog.VersionUnavailable);
    }
}
