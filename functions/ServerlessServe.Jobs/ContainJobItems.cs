using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;

namespace ServerlessServe.Jobs;

/// <summary>
/// <c>contain</c> for each of a job's items, first in the validate step: a caller blocked, or whose submitting token
/// was revoked (by its id, or with every token issued to the caller up to a time), since the job was submitted gets
/// each item not yet validated refused as a request of theirs would be (403 blocked, 401 revoked), and audited.
/// Throttles are not applied here: they limit requests, the job's submission was one, and a throttled caller's
/// submission of more than one item is refused (<c>JobEndpoints</c>; a job submitted before the throttle runs on). Fails closed as
/// <see cref="EnforceContainment"/> does: unavailable while the containment view is unread or stale.
/// </summary>
public sealed class ContainJobItems(ContainmentRegistry registry, CallerPseudonymizer pseudonymizer, IOptions<ContainmentOptions> options) : IRequestStage<ModelRequestContext>
{
    public string Name => "contain";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller ?? throw new InvalidOperationException("a job item carries its caller");
        var (refusal, _, _) = await EnforceContainment.CheckAsync(registry, pseudonymizer, options.Value, caller, cancellationToken).ConfigureAwait(false);
        return refusal is null ? StageOutcome.Pass : refusal;
    }
}
