using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>honey-caller</c>, right after authenticate: a validly signed token whose subject is a honey subject (one never
/// issued to anyone, so its use means a stolen signing key or a forged issuer) raises one
/// <see cref="SecurityEventKinds.HoneyCaller"/> event naming that subject's pseudonym and is refused with
/// <see cref="AuthorizeCaller.Forbidden"/>, the same 403 any caller the gateway will not serve gets. On the jobs API,
/// whose requests name no model, the event's model is the route's placeholder <c>jobs</c>.
/// </summary>
public sealed class RefuseHoneyCaller(CanaryAlarm alarm) : IRequestStage<ModelRequestContext>
{
    public string Name => "honey-caller";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller ?? throw new InvalidOperationException("honey-caller runs after authenticate");
        if (!alarm.Canaries.IsHoneySubject(caller.Subject))
        {
            return StageOutcome.Pass;
        }

        if (!context.LookAhead)
        {
            // Refused whether or not the audit trail takes the event: the answer must not differ from any other 403.
            await alarm.RaiseAsync(alarm.Create(SecurityEventKinds.HoneyCaller, context, HoneyEvidence.For(context))).ConfigureAwait(false);
        }

        return AuthorizeCaller.Forbidden;
    }
}
