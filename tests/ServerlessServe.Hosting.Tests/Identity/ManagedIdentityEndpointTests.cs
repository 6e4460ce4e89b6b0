using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using ServerlessServe.Hosting.Identity;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Hosting.Tests.Identity;

/// <summary>
/// Azure.Identity's real <see cref="ManagedIdentityCredential"/> against the local issuer's managed identity endpoint
/// (found through <c>IDENTITY_ENDPOINT</c> / <c>IDENTITY_HEADER</c>, as on App Service): the expiry it reports is the
/// one the endpoint sent (<c>expires_on</c> in Unix seconds read as a time, not a duration), and the gateway's own
/// wiring hands out a token of its local identity for the inference audience.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class ManagedIdentityEndpointTests(InProcessStack stack)
{
    [Fact]
    public async Task ManagedIdentityCredential_LocalEndpoint_TokenOfTheGatewayIdentityWithItsExpiry()
    {
        var credential = new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);

        var token = await credential.GetTokenAsync(new TokenRequestContext([LocalManagedIdentity.InferenceAudience + "/.default"]), CancellationToken.None);

        var jwt = new JsonWebToken(token.Token);
        Assert.Equal(stack.Issuer.Issuer, jwt.Issuer);
        Assert.Equal([LocalManagedIdentity.InferenceAudience], jwt.Audiences);
        Assert.Equal(LocalManagedIdentity.GatewayClientId, jwt.GetClaim("azp").Value);
        Assert.Equal(LocalManagedIdentity.GatewayObjectId, jwt.GetClaim("oid").Value);
        Assert.InRange(token.ExpiresOn, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) - TimeSpan.FromSeconds(5), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task ManagedIdentityCredential_AnotherUserAssignedIdentity_Refused()
    {
        var credential = new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId("0c1d2e3f-0000-4000-8000-000000000009"));

        await Assert.ThrowsAnyAsync<AuthenticationFailedException>(async () =>
            await credential.GetTokenAsync(new TokenRequestContext([LocalManagedIdentity.InferenceAudience + "/.default"]), CancellationToken.None));
    }

    [Fact]
    public async Task GatewayTokenCache_TheGatewaysWiring_TokenForTheInferenceAudience()
    {
        var token = await stack.GatewayServices.GetRequiredService<ServiceTokenCache>().GetTokenAsync(CancellationToken.None);

        var jwt = new JsonWebToken(token);
        Assert.Equal([LocalManagedIdentity.InferenceAudience], jwt.Audiences);
        Assert.Equal(LocalManagedIdentity.GatewayClientId, jwt.GetClaim("appid").Value);
    }
}
