using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Onnx;

/// <summary>
/// A verified model version with its ONNX Runtime session (created from the verified bytes). Owned by the
/// <see cref="OnnxSessionCache"/>, which disposes the session; callers must not.
/// </summary>
public sealed class LoadedModel
{
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
}
