using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary><c>resolve</c>: the named model (and version) to a signed, verified version from the catalog.</summary>
public sealed class ResolveModel(IModelCatalog catalog) : IRequestStage<ModelRequestContext>
{
    public string Name => "resolve";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Model = await catalog.ResolveAsync(context.ModelName, context.RequestedVersion, cancellationToken).ConfigureAwait(false);
        return StageOutcome.Pass;
    }
}
