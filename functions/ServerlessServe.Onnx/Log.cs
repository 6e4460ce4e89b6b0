using Microsoft.Extensions.Logging;

namespace ServerlessServe.Onnx;

/// <summary>Log messages of the inference area (EventIds 3100-3199). Never tensor values or ONNX Runtime messages that may quote them.</summary>
internal static partial class Log
{
    [LoggerMessage(3100, LogLevel.Information, "Created an ONNX Runtime session for model {Model} version {Version} (manifest {ManifestDigest}) on {Provider} in {ElapsedMs} ms.")]
    public static partial void SessionCreated(ILogger logger, string model, string version, string manifestDigest, ExecutionProvider provider, long elapsedMs);

    [LoggerMessage(3101, LogLevel.Error, "The CUDA execution provider (device {DeviceId}) is unavailable and CPU fallback is off: no model will be served. Use the GPU build of ONNX Runtime on a CUDA host, or set AllowCpuFallback.")]
    public static partial void CudaUnavailable(ILogger logger, int deviceId, Exception exception);

    [LoggerMessage(3102, LogLevel.Warning, "The CUDA execution provider (device {DeviceId}) is unavailable; falling back to CPU as configured.")]
    public static partial void CudaFallback(ILogger logger, int deviceId);

    [LoggerMessage(3103, LogLevel.Warning, "Inference failed for model {Model} version {Version} ({ErrorCategory}); the caller got a sanitised error.")]
    public static partial void RunFailed(ILogger logger, string model, string version, string errorCategory);

    [LoggerMessage(3104, LogLevel.Error, "ONNX Runtime refused model {Model} version {Version} (manifest {ManifestDigest}).")]
    public static partial void SessionCreationFailed(ILogger logger, string model, string version, string manifestDigest, Exception exception);

    [LoggerMessage(3105, LogLevel.Warning, "Model {Model} version {Version} cannot be served ({Failure}); it is skipped and an older version keeps serving where one exists.")]
    public static partial void VersionUnservable(ILogger logger, string model, string version, string failure);

    [LoggerMessage(3106, LogLevel.Information, "A batched run of model {Model} version {Version} failed; its {Requests} requests run again one by one, so only a request whose own data fails is refused.")]
    public static partial void BatchRerun(ILogger logger, string model, string version, int requests);

    [LoggerMessage(3107, LogLevel.Warning, "A batched run of model {Model} version {Version} returned an output whose first dimension is not the batch's rows; its {Requests} requests run again one by one. The model does not suit the policy's batching.")]
    public static partial void BatchRowsMismatch(ILogger logger, string model, string version, int requests);

    [LoggerMessage(3108, LogLevel.Warning, "Dynamic batching is turned off (ServerlessServe:Inference:DynamicBatching is false): every request runs on its own, whatever its model's policy asks.")]
    public static partial void BatchingOff(ILogger logger);

    [LoggerMessage(3109, LogLevel.Information, "ONNX Runtime's telemetry is off for this process ({Variable}=1 was set before ONNX Runtime loaded).")]
    public static partial void TelemetryOff(ILogger logger, string variable);

    [LoggerMessage(3110, LogLevel.Warning, "ONNX Runtime was loaded before {Variable}=1 could be set: the events it records as it starts may have been kept on this machine; later ones are turned off. Call OnnxRuntimeTelemetry.DisableBeforeLoad first thing in Main.")]
    public static partial void TelemetryOffLate(ILogger logger, string variable);

    [LoggerMessage(3111, LogLevel.Warning, "{Variable}={Value} in the environment was overridden: ServerlessServe keeps ONNX Runtime's telemetry off in every process that serves callers.")]
    public static partial void TelemetryOverridden(ILogger logger, string variable, string value);

    [LoggerMessage(3112, LogLevel.Information, "Unloaded model {Model} version {Version} ({Bytes} bytes), the least recently asked for, to keep the loaded models within {MaxBytes} bytes; it is disposed once its runs end and loaded again when asked for.")]
    public static partial void SessionEvicted(ILogger logger, string model, string version, long bytes, long maxBytes);

    [LoggerMessage(3113, LogLevel.Information, "Warmed model {Model} version {Version} up at the batch sizes its runs are padded to ({Sizes}) in {ElapsedMs} ms, before its first batch.")]
    public static partial void BatchWarmed(ILogger logger, string model, string version, string sizes, long elapsedMs);

    [LoggerMessage(3114, LogLevel.Warning, "Warming model {Model} version {Version} up at its batch sizes failed ({Error}); batches run as they come, each new size paying its first run.")]
    public static partial void BatchWarmFailed(ILogger logger, string model, string version, string error);

    [LoggerMessage(3115, LogLevel.Debug, "Batch of model {Model}: {Requests} requests, {Rows} rows run as {RunRows}; oldest waited {WaitedMs:F2} ms, stacking {StackMs:F2} ms, run {RunMs:F2} ms, splitting {SplitMs:F2} ms.")]
    public static partial void BatchRan(ILogger logger, string model, int requests, long rows, long runRows, double waitedMs, double stackMs, double runMs, double splitMs);

    [LoggerMessage(3116, LogLevel.Error, "Loading model {Model} version {Version} took longer than {TimeoutSeconds} s (ServerlessServe:Inference:ModelLoadTimeout) and was given up; the next request tries again.")]
    public static partial void ModelLoadTimedOut(ILogger logger, string model, string version, long timeoutSeconds);

    [LoggerMessage(3117, LogLevel.Warning, "Model {Model} version {Version} asks for batching, but an output's dimension after the first is sized by the data (neither fixed nor named as an input's): each request runs alone.")]
    public static partial void NotBatchable(ILogger logger, string model, string version);
}
