using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Local.Samples;
using ServerlessServe.Onnx.Stages;
using ServerlessServe.Onnx.Tests.Inference;

namespace ServerlessServe.Onnx.Tests.Stages;

/// <summary><c>infer</c> on the inference app chooses the batcher only when the model's policy asks for batching.</summary>
public sealed class RunModelTests : IDisposable
{
    private readonly OnnxSessionCache _cache = InferenceTestModels.NewCache();
    private readonly OnnxModelRunner _runner = new(new FakeLogger<OnnxModelRunner>());
    private readonly ConcurrentQueue<(int Requests, long Rows)> _runs = new();
    private readonly DynamicBatcher _batcher;
    private readonly RunModel _stage;

    public RunModelTests()
    {
        _batcher = new DynamicBatcher(_runner, TimeProvider.System, new FakeLogger<DynamicBatcher>()) { OnRun = (requests, rows) => _runs.Enqueue((requests, rows)) };
        _stage = new RunModel(_runner, _batcher, Options.Create(new InferenceOptions()));
    }

    [Fact]
    public async Task RunAsync_PolicyWithBatching_ConcurrentRequestsShareOneRun()
    {
        var model = await InferenceTestModels.BatchedCreditRiskAsync(_cache);
        var first = Context(model, "a", new Tensor("features", TensorDataType.Fp32, [1, 4], new[] { 0.2f, 0.1f, 0f, 18f }));
        var second = Context(model, "b", new Tensor("features", TensorDataType.Fp32, [2, 4], new[] { 0.7f, 0.85f, 5f, 2f, 0.4f, 0.5f, 2f, 9f }));

        Task<StageOutcome> a, b;
        using (_batcher.Pause())
        {
            a = _stage.RunAsync(first, default).AsTask();
            b = _stage.RunAsync(second, default).AsTask();
        }

        Assert.Equal([StageOutcome.Pass, StageOutcome.Pass], await Task.WhenAll(a, b));
        Assert.Equal([(2, 3L)], _runs);
        foreach (var context in new[] { first, second })
        {
            var alone = Assert.Single(await _runner.RunAsync(model, context.Request!.Inputs, null, default));
            var response = context.Inferred!;
            Assert.Same(response, context.Released);
            Assert.Equal(context.Request.Id, response.Id);
            Assert.Equal(alone.As<float>().ToArray(), Assert.Single(response.Outputs).As<float>().ToArray());
        }
    }

    [Fact]
    public async Task RunAsync_PolicyWithoutBatching_RunsAloneAsBefore()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var context = Context(model, "a", new Tensor("features", TensorDataType.Fp32, [1, 4], new[] { 0.2f, 0.1f, 0f, 18f }));

        using (_batcher.Pause())
        {
            // Paused, so it completes only because it never reaches the batcher.
            Assert.Equal(StageOutcome.Pass, await _stage.RunAsync(context, default));
        }

        Assert.Equal([1L, 3L], Assert.Single(context.Inferred!.Outputs).Shape);
        Assert.Empty(_runs);
    }

    [Fact]
    public async Task RunAsync_BatchingTurnedOffByTheOperator_PolicyWithBatchingRunsAlone()
    {
        var model = await InferenceTestModels.BatchedCreditRiskAsync(_cache);
        var stage = new RunModel(_runner, _batcher, Options.Create(new InferenceOptions { DynamicBatching = false }));
        var context = Context(model, "a", new Tensor("features", TensorDataType.Fp32, [1, 4], new[] { 0.2f, 0.1f, 0f, 18f }));

        using (_batcher.Pause())
        {
            Assert.Equal(StageOutcome.Pass, await stage.RunAsync(context, default));
        }

        Assert.Empty(_runs);
    }

    [Fact]
    public async Task RunAsync_SqueezedDigits_ShareOneRunAndEachGetsItsOwnOutputsAndScore()
    {
        // The digits sample as served: its own policy (squeeze in shadow mode, batching) over its own model.
        var bytes = DigitsSample.BuildModel();
        var package = Core.Artifacts.ModelPackager.Pack(DigitsSample.Name, "1", bytes, SampleModels.GetPolicy(DigitsSample.Name), Core.Tests.Artifacts.TestPackages.Signer, Core.Tests.Artifacts.TestPackages.Created, SampleModels.BuildProfile(DigitsSample.Name));
        var model = await _cache.GetOrCreateAsync(InferenceTestModels.Verified(package, bytes), default);
        var squeezers = model.Version.Policy.Defenses!.Squeeze!.Squeezers.Count;
        var alone = new RunModel(_runner, _batcher, Options.Create(new InferenceOptions { DynamicBatching = false }));
        OnnxInferenceContext[] Contexts() =>
        [
            Context(model, "a", new Tensor("pixels", TensorDataType.Fp32, [1, 64], Enumerable.Range(0, 64).Select(i => (float)(i % 17)).ToArray())),
            Context(model, "b", new Tensor("pixels", TensorDataType.Fp32, [2, 64], Enumerable.Range(0, 128).Select(i => (float)((i * 5) % 17)).ToArray())),
        ];

        var batched = Contexts();
        Task<StageOutcome>[] runs;
        using (_batcher.Pause())
        {
            runs = batched.Select(c => _stage.RunAsync(c, default).AsTask()).ToArray();
        }

        Assert.All(await Task.WhenAll(runs), o => Assert.Equal(StageOutcome.Pass, o));
        Assert.Equal([(2, (1L + 2L) * (1 + squeezers))], _runs);
        var single = Contexts();
        foreach (var context in single)
        {
            Assert.Equal(StageOutcome.Pass, await alone.RunAsync(context, default));
        }

        Assert.Single(_runs);
        for (var i = 0; i < single.Length; i++)
        {
            var expected = single[i].Inferred!;
            var actual = batched[i].Inferred!;
            Assert.Equal(expected.Outputs.Single().Shape, actual.Outputs.Single().Shape);
            Assert.Equal(expected.Outputs.Single().As<float>().ToArray(), actual.Outputs.Single().As<float>().ToArray());
            Assert.Equal(
                expected.Parameters[Core.Defenses.FeatureSqueezing.ScoreParameter].ToString(),
                actual.Parameters[Core.Defenses.FeatureSqueezing.ScoreParameter].ToString());
        }
    }

    public void Dispose() => _cache.Dispose();

    private static OnnxInferenceContext Context(LoadedModel model, string id, Tensor input) =>
        new(id, model.Name, model.ModelVersion, "infer")
        {
            Loaded = model,
            Model = model.Version,
            Request = new InferenceRequest { Id = id, Inputs = [input] },
        };
}
