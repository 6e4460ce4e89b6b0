using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>redact</c>: the policy's output hardening (top-k, label, rounding) and PII redaction of BYTES outputs; then only
/// the outputs the caller asked for (by their released names) are kept.
/// </summary>
public sealed class RedactResponse(ResponseRedactor redactor) : IRequestStage<InferenceContext>
{
    public string Name => "redact";

    public ValueTask<StageOutcome> RunAsync(InferenceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var inferred = context.Inferred ?? throw new InvalidOperationException("redact runs after infer");
        var model = context.Model ?? throw new InvalidOperationException("redact runs after resolve");
        var redacted = redactor.Apply(inferred.Outputs, model.Policy);
        var outputs = redacted.Outputs;
        if (context.Request?.Outputs is { } requested)
        {
            var names = requested.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
            outputs = outputs.Where(t => names.Contains(t.Name)).ToList();
        }

        context.Redactions = redacted.Counts;
        context.Released = new InferenceResponse
        {
            ModelName = model.Manifest.Name,
            ModelVersion = model.Manifest.Version,
            Id = context.Request?.Id,
            Outputs = outputs,
        };
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
