using System.Text.Json.Serialization;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Onnx;

/// <summary>An inference request on the inference app: the shared context plus the loaded ONNX Runtime session.</summary>
public class OnnxInferenceContext(string requestId, string modelName, string? requestedVersion, string operation)
    : InferenceContext(requestId, modelName, requestedVersion, operation)
{
    /// <summary>Set by load: the verified version with its session (owned by the session cache; never serialised).</summary>
    [JsonIgnore]
    public LoadedModel? Loaded { get; set; }

    /// <summary>Set by admit: the request body's bytes counted against the app's (<see cref="InferenceBodyBudget"/>).</summary>
    [JsonIgnore]
    public IDisposable? BodyReservation { get; set; }
}

/// <summary>A metadata or readiness request on the inference app (authenticate → load, nothing read).</summary>
public sealed class OnnxModelContext(string requestId, string modelName, string? requestedVersion)
    : OnnxInferenceContext(requestId, modelName, requestedVersion, "metadata");
