using Azure.Core;
using Azure.Identity;

namespace ServerlessServe.Hosting.Tests.Identity;

/// <summary>
/// A credential whose answers a test decides, standing in for the platform's managed identity endpoint (which does not
/// exist off Azure; the local issuer's real one is used end to end by the in-process and integration stacks): each call
/// is counted and, while <see cref="Gate"/> is closed, held until it opens. It answers with a token that lives
/// <see cref="Lifetime"/> on the test's clock, or fails while <see cref="Failing"/> is set.
/// </summary>
internal sealed class ScriptedCredential(TimeProvider time) : TokenCredential
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(1);

    public DateTimeOffset? RefreshOn { get; set; }

    public bool Failing { get; set; }

    public TaskCompletionSource Gate { get; set; } = Opened();

    public List<string> Scopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls);
        lock (Scopes)
        {
            Scopes.AddRange(requestContext.Scopes);
        }

        await Gate.Task.WaitAsync(cancellationToken);
        if (Failing)
        {
            throw new CredentialUnavailableException("The managed identity endpoint is down.");
        }

        return new AccessToken("token-" + call, time.GetUtcNow() + Lifetime, RefreshOn);
    }

    public static TaskCompletionSource Opened()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }
}
