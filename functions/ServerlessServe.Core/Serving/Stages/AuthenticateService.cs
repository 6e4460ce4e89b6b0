using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary><c>authenticate</c> on the inference app: only the gateway's service token is accepted.</summary>
public sealed class AuthenticateService(ServiceAuthenticator services) : IRequestStage<ModelRequestContext>
{
    public string Name => "authenticate";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var authorization = context.Authorization;
        context.Authorization = null;
        context.Caller = await services.AuthenticateAsync(authorization).ConfigureAwait(false);
        return context.Caller is null ? Refusal.Unauthenticated("a valid bearer token is required") : StageOutcome.Pass;
    }
}
