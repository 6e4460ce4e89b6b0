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
    private OnnxSessionCache _cache = null!;
    private LoadedModel _creditRisk = null!;
    private LoadedModel _customerNotes = null!;
    private Tensor[] _creditRisk1 = null!;
    private Tensor[] _creditRisk64 = null!;
    private Tensor[] _customerIds16 = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _cache = new OnnxSessionCache(Options.Create(new InferenceOptions()), NullLogger<OnnxSessionCache>.Instance);
        _creditRisk = await _cache.GetOrCreateAsync(SignedSamples.Load(CreditRiskSample.Name), CancellationToken.None).ConfigureAwait(false);
        _customerNotes = await _cache.GetOrCreateAsync(SignedSamples.Load(CustomerNotesSample.Name), CancellationToken.None).ConfigureAwait(false);
        _creditRisk1 = [BenchmarkData.CreditRiskFeatures(1)];
        _creditRisk64 = [BenchmarkData.CreditRiskFeatures(64)];
        _customerIds16 = [BenchmarkData.CustomerIds(16)];
    }

    [GlobalCleanup]
    public void Cleanup() => _cache.Dispose();

    [Benchmark]
    public Task<IReadOnlyList<Tensor>> CreditRisk_Batch1() => _runner.RunAsync(_creditRisk, _creditRisk1, null, CancellationToken.None);

    [Benchmark]
    public Task<IReadOnlyList<Tensor>> CreditRisk_Batch64() => _runner.RunAsync(_creditRisk, _creditRisk64, null, CancellationToken.None);

    [Benchmark]
    public Task<IReadOnlyList<Tensor>> CustomerNotes_Batch16() => _runner.RunAsync(_customerNotes, _customerIds16, null, CancellationToken.None);
}
