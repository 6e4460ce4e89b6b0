using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Serving.Stages;

/// <summary><c>authenticate</c>: the caller's bearer token must validate; the raw header is dropped either way.</summary>
public sealed class AuthenticateCaller(CallerAuthenticator callers) : IRequestStage<ModelRequestContext>
{
    public string Name => "authenticate";

    public async ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var authorization = context.Authorization;
        context.Authorization = null;
        context.Caller = await callers.AuthenticateAsync(authorization).ConfigureAwait(false);
        return context.Caller is null ? Refusal.Unauthenticated("a valid bearer token is required") : StageOutcome.Pass;
    }
}
