using BenchmarkDotNet.Attributes;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Validation;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// Request validation against the model's signed schema and policy, at ResNet18 size: one FP32 [1,3,224,224] image
/// checked element by element against the resnet18 sample policy's range (-1000..1000, finite values only).
/// </summary>
[MemoryDiagnoser]
public class ValidationBenchmarks
{
    private InferenceRequest _request = null!;
    private TensorSpec[] _inputs = null!;
    private TensorSpec[] _outputs = null!;
    private ModelPolicy _policy = null!;

    [GlobalSetup]
    public void Setup()
    {
        _request = new InferenceRequest { Inputs = [BenchmarkData.Image()] };
        _inputs = [new TensorSpec(ResNet18Sample.InputName, TensorDataType.Fp32, BenchmarkData.ImageShape)];
        _outputs = [new TensorSpec(ResNet18Sample.OutputName, TensorDataType.Fp32, [1, 512, 1, 1])];
        _policy = BenchmarkData.Policy(ResNet18Sample.Name);
    }

    [Benchmark]
    public ValidationSummary Validate_Image_PolicyRange() => RequestValidator.Validate(_request, _inputs, _outputs, _policy);
}
