using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Validation;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>validate</c>: the request against the model's declared inputs and policy (names, datatypes, shapes, batch, ranges,
/// lengths, finiteness), and its requested outputs against what the model releases (the names its metadata lists).
/// </summary>
public sealed class ValidateRequest : IRequestStage<InferenceContext>
{
    public string Name => "validate";

    public ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request ?? throw new InvalidOperationException("validate runs after read");
        var model = context.Model ?? throw new InvalidOperationException("validate runs after resolve");
        RequestValidator.Validate(request, model.Manifest.Inputs, ReleasedMetadata.For(model).Outputs, model.Policy);
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
