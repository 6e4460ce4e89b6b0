using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>authorize</c>: when the model's policy names roles, the caller's token must carry at least one of them. An empty
/// list admits every authenticated caller. A token carrying the admin plane's role (<see cref="AdminRoles.Admin"/>) is
/// refused whatever the policy says: an admin identity never uses the data plane.
/// </summary>
public sealed class AuthorizeCaller : IRequestStage<ModelRequestContext>
{
    /// <summary>The one 403 of the data plane: every caller the gateway will not serve gets exactly this.</summary>
    public static Refusal Forbidden => Refusal.Denied;

    public string Name => "authorize";

    public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.Caller ?? throw new InvalidOperationException("authorize runs after authenticate");
        var policy = (context.Model ?? throw new InvalidOperationException("authorize runs after resolve")).Policy;
        if (caller.Roles.Contains(AdminRoles.Admin, StringComparer.Ordinal))
        {
            return ValueTask.FromResult<StageOutcome>(Refusal.Denied);
        }

        var admitted = policy.Roles.Count == 0 || policy.Roles.Any(required => caller.Roles.Contains(required, StringComparer.Ordinal));
        if (admitted)
        {
            // Past the last check that can make a request a miss: its hold on one of the caller's misses goes back now, not
            // when the request ends.
            context.PendingMiss?.Settle(miss: false);
            context.Authorized = true;
            return ValueTask.FromResult(StageOutcome.Pass);
        }

        return ValueTask.FromResult<StageOutcome>(Refusal.Denied);
    }
}
