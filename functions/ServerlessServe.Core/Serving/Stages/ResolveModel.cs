using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>resolve</c>: the named model (and version) to a signed, verified version from the catalog, which obeys the signed
/// lifecycle and revocation list; a named deprecated version carries its dates for the response headers.
/// </summary>
public sealed class ResolveModel(IModelCatalog catalog) : IRequestStage<ModelRequestContext>
{
    public string Name => "resolve";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Model = await catalog.ResolveAsync(context.ModelName, context.RequestedVersion, cancellationToken).ConfigureAwait(false);
        context.Deprecation = context.RequestedVersion is { } version ? catalog.DeprecationOf(context.ModelName, version) : null;
        return StageOutcome.Pass;
    }
}
