using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary><c>release</c>, a closing stage: gives back the places <see cref="AdmitRequest"/> and <see cref="LimitCaller"/> held.</summary>
public sealed class ReleaseLimits : IRequestStage<ModelRequestContext>
{
    public string Name => "release";

    public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var lease in context.Leases)
        {
            lease.Dispose();
        }

        context.Leases.Clear();
        return ValueTask.FromResult(StageOutcome.Pass);
    }
}
