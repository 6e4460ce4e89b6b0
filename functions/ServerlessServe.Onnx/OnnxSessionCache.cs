using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Onnx;

/// <summary>
/// One <see cref="InferenceSession"/> per model version, keyed by manifest digest and created from verified bytes in
/// memory. Concurrent callers for the same digest share one creation; a failed creation is not cached. Versions are
/// immutable and sessions thread-safe, so a session stays while it is asked for; past
/// <see cref="InferenceOptions.MaxLoadedModelBytes"/> the versions asked for least recently are evicted (disposed once
/// their runs end, <see cref="LoadedModel.Evict"/>) and loaded again when next asked for.
/// </summary>
public sealed class OnnxSessionCache : IDisposable
{
    private readonly InferenceOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<LoadedModel>>> _sessions = new(StringComparer.Ordinal);
    private readonly object _evictions = new();
    private bool _disposed;

    public OnnxSessionCache(IOptions<InferenceOptions> options, ILogger<OnnxSessionCache> logger)
    {
        _options = options?.Value ?? throw new ArgumentNullException(nameof(options));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));

        // Before the first session: ONNX Runtime's telemetry off (the app's Main has done this already).
        var telemetry = OnnxRuntimeTelemetry.Disable();
        if (telemetry.LoadedBefore)
        {
            Log.TelemetryOffLate(_logger, OnnxRuntimeTelemetry.Variable);
        }
        else
        {
            Log.TelemetryOff(_logger, OnnxRuntimeTelemetry.Variable);
        }

        if (telemetry.Overridden is { } value)
        {
            Log.TelemetryOverridden(_logger, OnnxRuntimeTelemetry.Variable, value.Length <= 16 ? value : value[..16]);
        }
    }

    /// <summary>Number of sessions created and held.</summary>
    public int Count => _sessions.Values.Count(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully);

    /// <summary>The models whose sessions exist.</summary>
    internal IEnumerable<LoadedModel> Loaded =>
        _sessions.Values.Where(l => l.IsValueCreated && l.Value.IsCompletedSuccessfully).Select(l => l.Value.Result);

    /// <summary>The loaded model for <paramref name="manifestDigest"/> when its session exists already.</summary>
    public bool TryGet(string manifestDigest, out LoadedModel? model)
    {
        if (_sessions.TryGetValue(manifestDigest, out var entry) && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully)
        {
            model = entry.Value.Result;
            model.Touch();
            return true;
        }

        model = null;
        return false;
    }

    /// <summary>
    /// The session for <paramref name="version"/>; when there is none, <paramref name="loadVerified"/> fetches the
    /// verified bytes (it must return the same manifest digest) and a session is created from them.
    /// Throws <see cref="ModelVerificationException"/> (Model) when ONNX Runtime refuses the model and
    /// <see cref="ExecutionProviderUnavailableException"/> when the configured provider is missing and fallback is off.
    /// </summary>
    public async Task<LoadedModel> GetOrCreateAsync(
        VerifiedModelVersion version, Func<CancellationToken, Task<VerifiedModel>> loadVerified, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(loadVerified);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        ThrowIfBackingOff(version.ManifestDigest);
        var entry = _sessions.GetOrAdd(version.ManifestDigest, _ => new Lazy<Task<LoadedModel>>(() => CreateAsync(version, loadVerified)));
        try
        {
            var model = await entry.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            model.Touch();
            return model;
        }
        catch (Exception) when (entry.Value.IsFaulted || entry.Value.IsCanceled)
        {
            _sessions.TryRemove(KeyValuePair.Create(version.ManifestDigest, entry));
            throw;
        }
    }

    /// <summary>The session for an already verified model (its bytes are used only when no session exists for its digest).</summary>
    public Task<LoadedModel> GetOrCreateAsync(VerifiedModel model, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        return GetOrCreateAsync(model.Version, _ => Task.FromResult(model), cancellationToken);
    }

    /// <summary>Session options as configured: provider, intra-op threads and spinning, all graph optimisations. Also reports the provider used.</summary>
    internal SessionOptions CreateSessionOptions(out ExecutionProvider provider)
    {
        var options = NewOptions();
        provider = ExecutionProvider.Cpu;
        if (_options.ExecutionProvider != ExecutionProvider.Cuda)
        {
            return options;
        }

        try
        {
            options.AppendExecutionProvider_CUDA(_options.CudaDeviceId);
            provider = ExecutionProvider.Cuda;
            return options;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or NotSupportedException)
        {
            options.Dispose();
            if (!_options.AllowCpuFallback)
            {
                Log.CudaUnavailable(_logger, _options.CudaDeviceId, ex);
                throw new ExecutionProviderUnavailableException("the CUDA execution provider is unavailable and CPU fallback is off", ex);
            }

            Log.CudaFallback(_logger, _options.CudaDeviceId);
            return NewOptions();
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        foreach (var entry in _sessions.Values)
        {
            if (entry.IsValueCreated && entry.Value.IsCompletedSuccessfully)
            {
                // Disposed now, or by its last run if one is still under way.
                entry.Value.Result.Evict();
            }
        }

        _sessions.Clear();
    }

    private SessionOptions NewOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = _options.IntraOpNumThreads,
            // Fatal only: a kernel's error message names the caller's values ("idx=123456 must be within …") and ONNX
            // Runtime writes it to standard error, which the Functions host forwards to the logs past every redaction.
            // The runner logs the failure's category instead (OnnxModelRunner).
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", _options.AllowSpinning ? "1" : "0");
        // Always as ONNX (protobuf), the reading the publish and load checks made (OnnxModelInspector). Left to itself,
        // ONNX Runtime loads bytes with "ORTM" at offsets 4-7 as an ORT-format flatbuffer: bytes that open with an
        // unknown protobuf field holding that marker pass every check as one graph and would run as another (found in
        // review 2026-12-07).
        options.AddSessionConfigEntry("session.load_model_format", "ONNX");
        return options;
    }

    private async Task<LoadedModel> CreateAsync(VerifiedModelVersion version, Func<CancellationToken, Task<VerifiedModel>> loadVerified)
    {
        // One model loads at a time, its bytes fetched and its session made and the others evicted over the budget before
        // the next one starts: loads side by side did not count each other, so a caller pinning 40 versions of a 500 MB
        // model at once had all 40 in memory against a 1 GiB budget (found in review, 2026-12-06). Loads are rare; a
        // request for a model already loaded never waits here.
        await _loading.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            // The shared creation is not tied to any one caller's cancellation, but bounded on its own: a download that
            // trickled held every other version's first load behind this one for as long as it took (review 2026-12-08).
            using var bound = new CancellationTokenSource(_options.ModelLoadTimeout);
            VerifiedModel verified;
            try
            {
                verified = await loadVerified(bound.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (bound.IsCancellationRequested)
            {
                Log.ModelLoadTimedOut(_logger, version.Manifest.Name, version.Manifest.Version, (long)_options.ModelLoadTimeout.TotalSeconds);
                throw new TimeoutException("the model load took longer than ServerlessServe:Inference:ModelLoadTimeout", ex);
            }

            if (verified.Version.ManifestDigest != version.ManifestDigest)
            {
                throw new ModelVerificationException(ModelVerificationFailure.Manifest, "loaded model differs from the resolved version");
            }

            return await Task.Run(() => CreateSession(verified)).ConfigureAwait(false);
        }
        finally
        {
            _loading.Release();
        }
    }

    private readonly SemaphoreSlim _loading = new(1, 1);

    /// <summary>How long loads of a version are refused at once after one failed for want of memory or of the device.</summary>
    internal static readonly TimeSpan OutOfResourcesBackOff = TimeSpan.FromSeconds(5);

    // By manifest digest: until when (Stopwatch timestamp) loads are refused after one ran out of memory or device.
    private readonly ConcurrentDictionary<string, long> _outOfResourcesUntil = new(StringComparer.Ordinal);

    // Refused at once while a load of this version failed for want of memory or of the device less than the back-off
    // ago: before the one-at-a-time load gate and before its bytes are fetched and checked, so that it neither queues
    // behind other models' loads nor fetches hundreds of megabytes to be refused (found in review 2026-12-07).
    private void ThrowIfBackingOff(string manifestDigest)
    {
        if (_outOfResourcesUntil.TryGetValue(manifestDigest, out var until))
        {
            if (Stopwatch.GetTimestamp() < until)
            {
                throw new RefusedException(OnnxModelRunner.OutOfResources);
            }

            _outOfResourcesUntil.TryRemove(KeyValuePair.Create(manifestDigest, until));
        }
    }

    /// <summary>For tests: loads of the version with <paramref name="manifestDigest"/> are refused as out of resources for the back-off.</summary>
    internal void BackOff(string manifestDigest) =>
        _outOfResourcesUntil[manifestDigest] = Stopwatch.GetTimestamp() + (long)(OutOfResourcesBackOff.TotalSeconds * Stopwatch.Frequency);

    private LoadedModel CreateSession(VerifiedModel verified)
    {

        var started = Stopwatch.GetTimestamp();
        using var options = CreateSessionOptions(out var provider);
        InferenceSession session;
        try
        {
            session = new InferenceSession(verified.ModelBytes, options);
        }
        catch (OnnxRuntimeException ex)
        {
            var manifest = verified.Version.Manifest;
            Log.SessionCreationFailed(_logger, manifest.Name, manifest.Version, verified.Version.ManifestDigest, ex);
            if (OnnxModelRunner.IsOutOfResources(ex.Message))
            {
                // Memory or the device ran out (a GPU filled by other models' arenas): nothing wrong with the version, so
                // it is not marked unavailable for a minute. Refused as a run out of memory is (scoped to the version:
                // the gateway neither retries nor counts it), and loads of it refused at once for a few seconds, so that
                // every request does not start a load of seconds that fails again, the other models' loads behind it.
                BackOff(verified.Version.ManifestDigest);
                throw new RefusedException(OnnxModelRunner.OutOfResources);
            }

            throw new ModelVerificationException(ModelVerificationFailure.Model, "ONNX Runtime refused the model", ex);
        }

        if (Volatile.Read(ref _disposed))
        {
            // The cache was disposed while this session was being created: nobody would ever dispose it.
            session.Dispose();
            throw new ObjectDisposedException(nameof(OnnxSessionCache));
        }

        Log.SessionCreated(_logger, verified.Version.Manifest.Name, verified.Version.Manifest.Version, verified.Version.ManifestDigest, provider, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        var loaded = new LoadedModel(verified.Version, session, provider, verified.ModelBytes);
        EvictOverBudget(loaded);
        return loaded;
    }

    /// <summary>
    /// Takes <paramref name="model"/> out of the cache (a version that failed re-attestation): no request gets it again,
    /// and one that resolved it before is refused at its run (503) rather than run on it; a run already going finishes,
    /// and the session is disposed by the last use. True when it was in the cache.
    /// </summary>
    internal bool Evict(LoadedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (_evictions)
        {
            return TakeOut(model);
        }
    }

    // Under _evictions: removes model's own entry (not a newer one for its digest) and evicts it; false when not there.
    private bool TakeOut(LoadedModel model)
    {
        if (_sessions.TryGetValue(model.ManifestDigest, out var entry)
            && entry.IsValueCreated && entry.Value.IsCompletedSuccessfully && ReferenceEquals(entry.Value.Result, model)
            && _sessions.TryRemove(KeyValuePair.Create(model.ManifestDigest, entry)))
        {
            model.Evict();
            return true;
        }

        return false;
    }

    // Keeps the loaded models' bytes within the budget, the one just loaded included: the others go, least recently
    // asked for first. Runs as each session is created (the one just loaded is not in the map's loaded set yet).
    private void EvictOverBudget(LoadedModel justLoaded)
    {
        lock (_evictions)
        {
            var loaded = Loaded.Where(m => !ReferenceEquals(m, justLoaded)).OrderBy(static m => m.LastUsed).ToList();
            var bytes = justLoaded.ModelBytes.LongLength + loaded.Sum(static m => m.ModelBytes.LongLength);
            foreach (var model in loaded)
            {
                if (bytes <= _options.MaxLoadedModelBytes)
                {
                    break;
                }

                if (TakeOut(model))
                {
                    bytes -= model.ModelBytes.LongLength;
                    Log.SessionEvicted(_logger, model.Name, model.ModelVersion, model.ModelBytes.LongLength, _options.MaxLoadedModelBytes);
                }
            }
        }
    }
}
