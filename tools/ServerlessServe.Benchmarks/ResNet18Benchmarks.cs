using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Local.Samples;
using ServerlessServe.Onnx;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// ResNet18 on the CPU, one image, in one process with nothing else running: the inference app's run (the session
/// cache's options, the runner: input pinned, outputs copied out) against the bench's <c>raw</c> target (ONNX Runtime's
/// default session options, one input value made once). What the two differ by here is the app's own cost; what the
/// live stack shows beyond it is the machine's. Needs the restored <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>.
/// </summary>
[MemoryDiagnoser]
public class ResNet18Benchmarks
{
    private readonly OnnxModelRunner _runner = new(NullLogger<OnnxModelRunner>.Instance);
    private readonly RunOptions _runOptions = new();
    private OnnxSessionCache _cache = null!;
    private LoadedModel _model = null!;
    private Tensor[] _image = null!;
    private InferenceSession _raw = null!;
    private OrtValue _rawInput = null!;
    private string[] _inputNames = null!;
    private string[] _outputNames = null!;

    /// <summary>The app's <c>ServerlessServe:Inference:AllowSpinning</c> (off by default); raw keeps ONNX Runtime's default (on).</summary>
    [Params(false, true)]
    public bool AppSpinning { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        OnnxRuntimeTelemetry.Disable();
        var path = ResNet18Sample.Find() ?? throw new InvalidOperationException("ResNet18.onnx is not here (restore the NuGet packages).");
        var bytes = ResNet18Sample.WithDynamicBatch(await ResNet18Sample.ReadVerifiedAsync(path).ConfigureAwait(false));
        _cache = new OnnxSessionCache(Options.Create(new InferenceOptions { AllowSpinning = AppSpinning }), NullLogger<OnnxSessionCache>.Instance);
        _model = await _cache.GetOrCreateAsync(SignedSamples.Load(ResNet18Sample.Name, bytes), CancellationToken.None).ConfigureAwait(false);
        _image = [BenchmarkData.Image()];

        using var options = new SessionOptions();
        _raw = new InferenceSession(bytes, options);
        _rawInput = OrtValue.CreateTensorValueFromMemory(((float[])_image[0].Data).ToArray(), [1, 3, 224, 224]);
        _inputNames = [ResNet18Sample.InputName];
        _outputNames = [.. _raw.OutputNames];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _rawInput.Dispose();
        _raw.Dispose();
        _runOptions.Dispose();
        _cache.Dispose();
    }

    /// <summary>The bench's <c>raw</c> target: a session with default options, the input made once.</summary>
    [Benchmark(Baseline = true)]
    public int Raw()
    {
        using var outputs = _raw.Run(_runOptions, _inputNames, [_rawInput], _outputNames);
        return outputs.Count;
    }

    /// <summary>The inference app's run of a request's image (its <c>infer</c> stage without the batcher's queue).</summary>
    [Benchmark]
    public async Task<int> App() => (await _runner.RunAsync(_model, _image, null, CancellationToken.None).ConfigureAwait(false)).Count;
}
