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
}
