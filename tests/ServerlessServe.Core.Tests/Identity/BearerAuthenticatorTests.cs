using System.Security.Cryptography;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;

namespace ServerlessServe.Core.Tests.Identity;

public sealed class BearerAuthenticatorTests : IDisposable
{
    private const string Issuer = "https://issuer.test";
    private const string Audience = "api://serverlessserve";

    private readonly ECDsa _callerKey = SigningKeys.CreateP256();
    private readonly ECDsa _serviceKey = SigningKeys.CreateP256();

    public void Dispose()
    {
        _callerKey.Dispose();
        _serviceKey.Dispose();
    }

    [Fact]
    public async Task AuthenticateAsync_ValidBearerToken_ReturnsSubjectAndRoles()
    {
        var token = new TokenIssuer(_callerKey, Issuer, TimeProvider.System).Mint("alice", Audience, TimeSpan.FromMinutes(5), ["scorer"]);

        var caller = (await new CallerAuthenticator(Validator(_callerKey)).AuthenticateAsync(Request("Bearer " + token))).Caller;

        Assert.NotNull(caller);
        Assert.Equal("alice", caller.Subject);
        Assert.Equal(["scorer"], caller.Roles);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic YWxpY2U6c2VjcmV0")]
    [InlineData("Bearer ")]
    [InlineData("Bearer not-a-jwt")]
    public async Task AuthenticateAsync_NoUsableBearerToken_Refused(string? authorization) =>
        Assert.False((await new CallerAuthenticator(Validator(_callerKey)).AuthenticateAsync(Request(authorization))).IsAccepted);

    [Fact]
    public async Task AuthenticateAsync_CallerTokenOnServiceAuthenticator_Refused()
    {
        var callerToken = new TokenIssuer(_callerKey, Issuer, TimeProvider.System).Mint("alice", Audience, TimeSpan.FromMinutes(5));

        Assert.False((await new ServiceAuthenticator(Validator(_serviceKey)).AuthenticateAsync(Request("Bearer " + callerToken))).IsAccepted);
    }

    private static TokenValidator Validator(ECDsa trusted) =>
        new([trusted], Issuer, Audience, TimeProvider.System, TimeSpan.FromHours(1), TimeSpan.Zero);

    /// <summary>The <c>Authorization</c> header value as the HTTP edge hands it over.</summary>
    private static string? Request(string? authorization) => authorization;
}
