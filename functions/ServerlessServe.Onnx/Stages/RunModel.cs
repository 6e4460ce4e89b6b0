using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Onnx.Stages;

/// <summary>
/// <c>infer</c> on the inference app: one ONNX Runtime run. Its outputs go back to the gateway only (which redacts), so
/// they are also what this app releases. When the model's policy asks for feature squeezing, that one run is on the
/// input followed by each squeezed copy of it (<see cref="FeatureSqueezing.Batch"/>); the outputs returned are the
/// input's rows only, and the request's squeeze score travels in the response parameter
/// <see cref="FeatureSqueezing.ScoreParameter"/> for the gateway to judge. Otherwise, when the policy asks for batching,
/// the run may be shared with concurrent requests for the same version (<see cref="DynamicBatcher"/>), a squeezed
/// request's rows and their squeezed copies included (each request gets its own rows back, and its score is its own),
/// unless the operator has turned batching off (<see cref="InferenceOptions.DynamicBatching"/>).
/// </summary>
internal sealed class RunModel : IRequestStage<OnnxInferenceContext>
{
    private readonly OnnxModelRunner _runner;
    private readonly DynamicBatcher _batcher;
    private readonly InferenceModelHost? _models;
    private readonly bool _batching;

    public RunModel(OnnxModelRunner runner, DynamicBatcher batcher, IOptions<InferenceOptions> options, ILogger<RunModel>? logger = null, InferenceModelHost? models = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _runner = runner;
        _batcher = batcher;
        _models = models;
        _batching = options.Value.DynamicBatching;
        if (!_batching && logger is not null)
        {
            Log.BatchingOff(logger);
        }
    }

    public string Name => "infer";

    public async ValueTask<StageOutcome> RunAsync(OnnxInferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var loaded = context.Loaded ?? throw new InvalidOperationException("infer runs after load");
        var request = context.Request ?? throw new InvalidOperationException("infer runs after read");
        if (loaded.IsEvicted && _models is not null)
        {
            // Taken out of the cache since resolve (another version loaded while this request's body was read, or the
            // version failed re-attestation): the same version is resolved again, which loads it afresh, rather than the
            // request refused 503 for the cache's choice; a version that may no longer serve is refused by the catalog.
            loaded = await _models.GetAsync(loaded.Name, loaded.ModelVersion, cancellationToken).ConfigureAwait(false);
            context.Loaded = loaded;
            context.Model = loaded.Version;
        }

        var wanted = request.Outputs?.Select(o => o.Name).ToList();
        IReadOnlyList<Tensor> outputs;
        IReadOnlyDictionary<string, ParameterValue> parameters = new Dictionary<string, ParameterValue>();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (loaded.Version.Policy.Defenses?.Squeeze is { } squeeze)
                {
                    (outputs, var score) = await RunSqueezedAsync(loaded, request, wanted, squeeze, cancellationToken).ConfigureAwait(false);
                    if (double.IsFinite(score))
                    {
                        parameters = new Dictionary<string, ParameterValue> { [FeatureSqueezing.ScoreParameter] = ParameterValue.FromDouble(score) };
                    }
                }
                else
                {
                    outputs = await RunAsync(loaded, request.Inputs, wanted, cancellationToken).ConfigureAwait(false);
                }

                break;
            }
            catch (RefusedException ex) when (attempt == 1 && _models is not null && ex.Refusal.Reason == OnnxModelRunner.UnloadedReason)
            {
                // Unloaded while this request waited in a batch queue or for a run thread, past the check above: the
                // version resolved again and run once more (review 2026-12-08: a 503 the gateway retried and counted
                // toward the model's breaker, for each request in the queue).
                loaded = await _models.GetAsync(loaded.Name, loaded.ModelVersion, cancellationToken).ConfigureAwait(false);
                context.Loaded = loaded;
                context.Model = loaded.Version;
            }
        }

        context.Inferred = new InferenceResponse
        {
            ModelName = loaded.Name,
            ModelVersion = loaded.ModelVersion,
            Id = request.Id,
            Parameters = parameters,
            Outputs = outputs,
        };
        context.Released = context.Inferred;
        return StageOutcome.Pass;
    }

    private Task<IReadOnlyList<Tensor>> RunAsync(LoadedModel loaded, IReadOnlyList<Tensor> inputs, IReadOnlyList<string>? wanted, CancellationToken cancellationToken) =>
        _batching && loaded.Version.Policy.Batching is { } batching
            ? _batcher.RunAsync(loaded, batching, inputs, wanted, cancellationToken)
            : _runner.RunAsync(loaded, inputs, wanted, cancellationToken);

    // Validate has checked the input: the model's only one, FP32 [rows, features].
    private async Task<(IReadOnlyList<Tensor> Outputs, double Score)> RunSqueezedAsync(
        LoadedModel loaded, InferenceRequest request, List<string>? wanted, SqueezePolicy squeeze, CancellationToken cancellationToken)
    {
        var input = request.Inputs.Single(i => i.Name == squeeze.Input);
        var rows = (int)input.Shape[0];
        var features = (int)input.Shape[1];
        var copies = 1 + squeeze.Squeezers.Count;
        var batch = new Tensor(input.Name, input.DataType, [rows * copies, features], FeatureSqueezing.Batch(input.As<float>(), features, squeeze));
        var names = wanted is null ? null : wanted.Contains(squeeze.Output) ? wanted : [.. wanted, squeeze.Output];
        var all = await RunAsync(loaded, [batch], names, cancellationToken).ConfigureAwait(false);

        var predictions = all.First(t => t.Name == squeeze.Output);
        var classes = (int)predictions.Shape[1];
        var score = FeatureSqueezing.RequestScore(FeatureSqueezing.Scores(predictions.As<float>(), rows, classes, squeeze.Squeezers.Count));
        var outputs = all.Where(t => wanted is null || wanted.Contains(t.Name)).Select(t => FirstRows(t, rows, copies)).ToList();
        return (outputs, score);
    }

    // The first 1/copies of a tensor's batch: the outputs for the rows as sent.
    private static Tensor FirstRows(Tensor tensor, int rows, int copies)
    {
        var shape = (long[])tensor.Shape.Clone();
        shape[0] = rows;
        var length = tensor.Data.Length / copies;
        var data = Array.CreateInstance(tensor.Data.GetType().GetElementType()!, length);
        Array.Copy(tensor.Data, data, length);
        return new Tensor(tensor.Name, tensor.DataType, shape, data);
    }
}
