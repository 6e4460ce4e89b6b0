using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>resolve</c>: the named model (and version) to a signed, verified version from the catalog, which obeys the signed
/// lifecycle and revocation list; a named deprecated version carries its dates for the response headers.
/// </summary>
/// <remarks>
/// A version that exists but may not serve (<see cref="ModelCatalog.VersionUnavailable"/>) is refused before the model's
/// policy can say who may know of it. So that a caller without access cannot tell such a model from one that does not
/// exist, the refusal carries the reason <see cref="AccessUnproven"/> unless the caller holds a role (or the policy
/// requires none) of a version this instance has verified; the HTTP edge answers it as an unknown model when it hides
/// model existence, and the audit record keeps <c>refused:unavailable:access_unproven</c>.
/// </remarks>
public sealed class ResolveModel(IModelCatalog catalog) : IRequestStage<ModelRequestContext>
{
    /// <summary>The reason of a version-unavailable refusal for a caller not shown to have access.</summary>
    public const string AccessUnproven = "access_unproven";

    public string Name => "resolve";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            context.Model = await catalog.ResolveAsync(context.ModelName, context.RequestedVersion, cancellationToken).ConfigureAwait(false);
        }
        catch (RefusedException ex) when (ex.Refusal == ModelCatalog.VersionUnavailable && context.Caller is { } caller && !MayKnow(caller, catalog.KnownRoles(context.ModelName)))
        {
            return ex.Refusal with { Reason = AccessUnproven };
        }

        context.Deprecation = context.RequestedVersion is { } version ? catalog.DeprecationOf(context.ModelName, version) : null;
        return StageOutcome.Pass;
    }

    private static bool MayKnow(CallerIdentity caller, IReadOnlyList<IReadOnlyList<string>> roleLists) =>
        !caller.Roles.Contains(AdminRoles.Admin, StringComparer.Ordinal)
        && roleLists.Any(roles => roles.Count == 0 || roles.Any(required => caller.Roles.Contains(required, StringComparer.Ordinal)));
}
