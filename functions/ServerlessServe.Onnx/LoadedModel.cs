using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Onnx;

/// <summary>
/// A verified model version with its ONNX Runtime session (created from the verified bytes). Owned by the
/// <see cref="OnnxSessionCache"/>, which disposes the session; callers must not. The cache may evict it (to stay within
/// <see cref="InferenceOptions.MaxLoadedModelBytes"/>) while runs are under way: every run holds a use
/// (<see cref="TryEnter"/>, <see cref="Exit"/>) from the run until its outputs are released, and the session is disposed
/// when the last use ends after the eviction, never under a run.
/// </summary>
public sealed class LoadedModel
{
    // Uses in progress; -1 once disposed (no use can start).
    private int _uses;
    private volatile bool _evicted;
    private long _lastUsed = Environment.TickCount64;

    internal LoadedModel(VerifiedModelVersion version, InferenceSession session, ExecutionProvider executionProvider, byte[] modelBytes)
    {
        Version = version;
        Session = session;
        ExecutionProvider = executionProvider;
        ModelBytes = modelBytes;
    }

    /// <summary>
    /// The verified bytes the session was created from, kept for runtime re-attestation (<see cref="SessionReattestation"/>):
    /// they are hashed against the signed digest every re-attestation interval. Costs the model's size in memory once more.
    /// </summary>
    internal byte[] ModelBytes { get; }

    public VerifiedModelVersion Version { get; }

    public InferenceSession Session { get; }

    /// <summary>The provider the session actually runs on (CPU after a permitted fallback).</summary>
    public ExecutionProvider ExecutionProvider { get; }

    public string Name => Version.Manifest.Name;

    public string ModelVersion => Version.Manifest.Version;

    public string ManifestDigest => Version.ManifestDigest;

    /// <summary>When a request last asked for this version (<see cref="Environment.TickCount64"/>), for eviction.</summary>
    internal long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>True once the session is disposed: evicted and no run left.</summary>
    internal bool IsDisposed => Volatile.Read(ref _uses) < 0;

    internal void Touch() => Volatile.Write(ref _lastUsed, Environment.TickCount64);

    /// <summary>
    /// Starts a use of the session; false once it is evicted, whether or not a run still holds it. No new run starts on
    /// an evicted model: one that failed re-attestation must not serve the requests queued for it (they are refused, and
    /// the gateway's retry loads the version again). Before 2026-12-07 only a disposed session refused, so while any run
    /// held a tampered model (a batch loop, a run still writing outputs) every queued request ran on it.
    /// </summary>
    internal bool TryEnter()
    {
        while (true)
        {
            var uses = Volatile.Read(ref _uses);
            if (uses < 0 || _evicted)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _uses, uses + 1, uses) == uses)
            {
                if (!_evicted)
                {
                    return true;
                }

                // Evicted between the look and the count: give the use back (disposing the session if it was the last).
                Exit();
                return false;
            }
        }
    }

    /// <summary>Ends a use; the last one after an eviction disposes the session.</summary>
    internal void Exit()
    {
        if (Interlocked.Decrement(ref _uses) == 0 && _evicted)
        {
            DisposeIfIdle();
        }
    }

    /// <summary>True once <see cref="Evict"/> was called: the cache no longer holds this model, and no new run starts on it.</summary>
    internal bool IsEvicted => _evicted;

    /// <summary>No new request gets this model from the cache; the session is disposed now if idle, else by the last use.</summary>
    internal void Evict()
    {
        _evicted = true;
        DisposeIfIdle();
    }

    private void DisposeIfIdle()
    {
        if (Interlocked.CompareExchange(ref _uses, -1, 0) == 0)
        {
            Session.Dispose();
        }
    }
}
