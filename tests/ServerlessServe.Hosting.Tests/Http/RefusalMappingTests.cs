using ServerlessServe.Core.Pipeline;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Tests.Http;

public sealed class RefusalMappingTests
{
    [Theory]
    [InlineData(RefusalKind.Invalid, 400)]
    [InlineData(RefusalKind.Unauthenticated, 401)]
    [InlineData(RefusalKind.Forbidden, 403)]
    [InlineData(RefusalKind.NotFound, 404)]
    [InlineData(RefusalKind.TooLarge, 413)]
    [InlineData(RefusalKind.UnsupportedMediaType, 415)]
    [InlineData(RefusalKind.RateLimited, 429)]
    [InlineData(RefusalKind.Cancelled, 499)]
    [InlineData(RefusalKind.Failed, 500)]
    [InlineData(RefusalKind.Unavailable, 503)]
    public void StatusCode_EveryKind_TheV2Status(RefusalKind kind, int status) =>
        Assert.Equal(status, RefusalMapping.StatusCode(kind));

    [Fact]
    public void StatusCode_EveryKindIsMapped() =>
        Assert.All(Enum.GetValues<RefusalKind>(), kind => Assert.InRange(RefusalMapping.StatusCode(kind), 400, 599));

    [Fact]
    public void Refused_Unauthenticated_ErrorBodyAndBearerChallenge()
    {
        var result = V2Results.Refused(Refusal.Unauthenticated("a valid bearer token is required"));

        Assert.Equal(401, result.StatusCode);
        Assert.Equal("""{"error":"a valid bearer token is required"}""", System.Text.Encoding.UTF8.GetString(result.Body).TrimEnd(' '));
        Assert.Equal(V2Results.ErrorBodyBytes, result.Body.Length);
        Assert.Equal("Bearer", result.Headers["WWW-Authenticate"]);
    }

    [Theory]
    [InlineData(400, RefusalKind.Invalid)]
    [InlineData(413, RefusalKind.TooLarge)]
    [InlineData(429, RefusalKind.RateLimited)]
    [InlineData(401, RefusalKind.Unavailable)]
    [InlineData(500, RefusalKind.Unavailable)]
    [InlineData(503, RefusalKind.Unavailable)]
    public void FromUpstream_InferenceAppStatus_GatewayRefusal(int status, RefusalKind kind) =>
        Assert.Equal(kind, RefusalMapping.FromUpstream(status).Kind);

    [Fact]
    public void FromUpstream_VersionScoped503_VersionUnavailable()
    {
        Assert.Same(ServerlessServe.Core.Artifacts.ModelCatalog.VersionUnavailable, RefusalMapping.FromUpstream(503, versionScoped: true));
        Assert.Equal("inference service unavailable", RefusalMapping.FromUpstream(503).Message);
        Assert.Equal(RefusalKind.Invalid, RefusalMapping.FromUpstream(400, versionScoped: true).Kind);
    }

    [Fact]
    public void Refused_VersionUnavailable_SaysItConcernsTheVersion()
    {
        var result = V2Results.Refused(ServerlessServe.Core.Artifacts.ModelCatalog.VersionUnavailable);

        Assert.Equal(503, result.StatusCode);
        Assert.Equal(V2Results.VersionScope, result.Headers[V2Results.RefusalScopeHeader]);
        Assert.False(V2Results.Refused(Refusal.Unavailable("server busy")).Headers.ContainsKey(V2Results.RefusalScopeHeader));
    }

    [Theory]
    [InlineData(503, null, true)]
    [InlineData(503, "version", false)]
    [InlineData(503, "something-else", true)]
    [InlineData(502, null, true)]
    [InlineData(504, "version", true)]
    [InlineData(500, null, false)]
    [InlineData(400, null, false)]
    [InlineData(429, null, false)]
    public void IsTransient_OnlyFailuresOfTheService(int status, string? scope, bool transient)
    {
        using var response = new System.Net.Http.HttpResponseMessage((System.Net.HttpStatusCode)status);
        if (scope is not null)
        {
            response.Headers.TryAddWithoutValidation(V2Results.RefusalScopeHeader, scope);
        }

        Assert.Equal(transient, InferenceResilience.IsTransient(Polly.Outcome.FromResult(response)));
    }

    [Fact]
    public void IsTransient_UnreachableOrTimedOut() =>
        Assert.All(
            new Exception[] { new System.Net.Http.HttpRequestException("refused"), new Polly.Timeout.TimeoutRejectedException() },
            ex => Assert.True(InferenceResilience.IsTransient(Polly.Outcome.FromException<System.Net.Http.HttpResponseMessage>(ex))));
}
