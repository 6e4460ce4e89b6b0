using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>honey-model</c>, after authenticate and before resolve: a request naming a honey model (served nowhere, listed
/// nowhere, so only someone guessing or reading stolen documents asks for it) raises one
/// <see cref="SecurityEventKinds.HoneyModel"/> event naming the caller, and is refused exactly as the catalog refuses a
/// model it does not have (<see cref="ModelCatalog.UnknownModel"/>: the same 404 and words, or the same 400 for a
/// malformed version). The catalog is never asked, so a honey name cannot be served even if a model of that name
/// were published. A request that fails authentication is refused before this stage and raises nothing (it is not
/// audited either: anyone could otherwise fill the immutable log).
/// </summary>
public sealed class RefuseHoneyModel(CanaryAlarm alarm) : IRequestStage<ModelRequestContext>
{
    public string Name => "honey-model";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!alarm.Canaries.IsHoneyModel(context.ModelName))
        {
            return StageOutcome.Pass;
        }

        if (!context.LookAhead)
        {
            // Refused whether or not the audit trail takes the event: the answer must not differ from an unknown model's.
            await alarm.RaiseAsync(alarm.Create(SecurityEventKinds.HoneyModel, context, HoneyEvidence.For(context))).ConfigureAwait(false);
        }

        return ModelCatalog.UnknownModel(context.RequestedVersion);
    }
}
