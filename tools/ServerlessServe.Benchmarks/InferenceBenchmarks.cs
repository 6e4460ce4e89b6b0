using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Local.Samples;
using ServerlessServe.Onnx;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The infer stage on ONNX Runtime (CPU), through the real session cache and runner: tensors in, OrtValues, one
/// session run, tensors out. Sessions are built once in setup from signed sample models with the default
/// <see cref="InferenceOptions"/> (CPU execution provider, ONNX Runtime's own thread count).
/// </summary>
[MemoryDiagnoser]
public class InferenceBenchmarks
{
    private readonly OnnxModelRunner _runner = new(NullLogger<OnnxModelRunner>.Instance);

    // What the inference app does for a model on CUDA (CudaRunThreads), here on the CPU: the same run, handed to one of
    // the app's own threads and awaited. The difference from CreditRisk_Batch1 is the hand-off.
    private readonly OnnxModelRunner _onRunThreads = new(NullLogger<OnnxModelRunner>.Instance)
    {
        CudaRunThreads = new RunThreads("benchmark run", 4),
        RunThreadsForEveryProvider = true,
    };
    private OnnxSessionCache _cache = null!;
    private LoadedModel _creditRisk = null!;
    private LoadedModel _customerNotes = null!;
    private Tensor[] _creditRisk1 = null!;
    private Tensor[] _creditRisk64 = null!;
    private Tensor[] _customerIds16 = null!;
    private Tensor _image = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _cache = new OnnxSessionCache(Options.Create(new InferenceOptions()), NullLogger<OnnxSessionCache>.Instance);
        _creditRisk = await _cache.GetOrCreateAsync(SignedSamples.Load(CreditRiskSample.Name), CancellationToken.None).ConfigureAwait(false);
        _customerNotes = await _cache.GetOrCreateAsync(SignedSamples.Load(CustomerNotesSample.Name), CancellationToken.None).ConfigureAwait(false);
        _creditRisk1 = [BenchmarkData.CreditRiskFeatures(1)];
        _creditRisk64 = [BenchmarkData.CreditRiskFeatures(64)];
        _customerIds16 = [BenchmarkData.CustomerIds(16)];
        _image = BenchmarkData.Image();
    }

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    /// <summary>A 1x3x224x224 image handed to ONNX Runtime as before: copied into a tensor ONNX Runtime allocated.</summary>
    [Benchmark]
    public long ImageInput_Copied()
    {
        using var value = OrtTensors.ToOrtValue(_image);
        return value.GetTensorTypeAndShape().ElementCount;
    }

    /// <summary>The same image as now: an OrtValue over the tensor's own array, pinned while it lives.</summary>
    [Benchmark]
    public long ImageInput_Pinned()
    {
        using var value = OrtTensors.Pin(_image);
        return value.GetTensorTypeAndShape().ElementCount;
    }

    [Benchmark]
    public Task<IReadOnlyList<Tensor>> CreditRisk_Batch1() => _runner.RunAsync(_creditRisk, _creditRisk1, null, CancellationToken.None);

    [Benchmark]
    public Task<IReadOnlyList<Tensor>> CreditRisk_Batch1_OnRunThreads() => _onRunThreads.RunAsync(_creditRisk, _creditRisk1, null, CancellationToken.None);

    [Benchmark]
    public Task<IReadOnlyList<Tensor>> CreditRisk_Batch64() => _runner.RunAsync(_creditRisk, _creditRisk64, null, CancellationToken.None);

    [Benchmark]
    public Task<IReadOnlyList<Tensor>> CustomerNotes_Batch16() => _runner.RunAsync(_customerNotes, _customerIds16, null, CancellationToken.None);
}
