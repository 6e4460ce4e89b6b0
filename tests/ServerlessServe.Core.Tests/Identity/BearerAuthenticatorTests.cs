using ServerlessServe.Core.Identity;

namespace ServerlessServe.Core.Tests.Identity;

/// <summary>
/// How the token is taken from the <c>Authorization</c> header; the authenticators over a real validator are in
/// <see cref="OidcTokenValidatorTests"/>.
/// </summary>
public sealed class BearerAuthenticatorTests
{
    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer  abc ", "abc")]
    [InlineData("Basic abc", null)]
    [InlineData("Basic YWxpY2U6c2VjcmV0", null)]
    [InlineData("Bearer", null)]
    [InlineData("Bearer ", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void BearerToken_HeaderForms_Extracted(string? header, string? expected) => Assert.Equal(expected, BearerAuthenticator.BearerToken(header));
}
