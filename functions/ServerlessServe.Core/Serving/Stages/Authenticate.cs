using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary>
/// <c>authenticate</c>: the request's bearer token must validate against <typeparamref name="TAuthenticator"/> (the
/// caller issuer's keys on the gateway, the gateway's service-token keys on the inference app). The raw header is
/// dropped either way, so no later stage and no serialised context ever holds it.
/// </summary>
public sealed class Authenticate<TAuthenticator>(TAuthenticator authenticator) : IRequestStage<ModelRequestContext>
    where TAuthenticator : BearerAuthenticator
{
    public string Name => "authenticate";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var authorization = context.Authorization;
        context.Authorization = null;
        context.Caller = await authenticator.AuthenticateAsync(authorization).ConfigureAwait(false);
        return context.Caller is null ? Refusal.Unauthenticated("a valid bearer token is required") : StageOutcome.Pass;
    }
}
