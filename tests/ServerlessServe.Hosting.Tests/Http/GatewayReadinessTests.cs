using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// Readiness against the in-process stack's real parts: ready only when the containment view and the signed lifecycle
/// documents and revocation list have been read, the caller issuer's metadata loads, and the inference app is ready;
/// each missing part alone makes it not ready.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class GatewayReadinessTests(InProcessStack stack)
{
    [Fact]
    public async Task IsReadyAsync_EveryPartThere_True()
    {
        Assert.True(await Readiness(Containment(), Issuer()).IsReadyAsync(default));
    }

    [Fact]
    public async Task IsReadyAsync_ContainmentNeverRead_False()
    {
        var unread = new ContainmentRegistry(
            new ContainmentStore(new TableServiceClient(stack.StorageConnectionString).GetTableClient("containment")),
            TimeProvider.System,
            NullLogger<ContainmentRegistry>.Instance);

        Assert.False(await Readiness(unread, Issuer()).IsReadyAsync(default));
    }

    [Fact]
    public async Task IsReadyAsync_ServingControlNeverRead_False()
    {
        var unread = new ServingControl(
            new ControlStore(stack.GatewayServices.GetRequiredService<ModelStore>().Container, stack.GatewayServices.GetRequiredService<TrustedSigners>()),
            Microsoft.Extensions.Options.Options.Create(new ServingControlOptions()),
            TimeProvider.System,
            NullLogger<ServingControl>.Instance);

        Assert.False(await Readiness(Containment(), Issuer(), unread).IsReadyAsync(default));
    }

    [Fact]
    public async Task IsReadyAsync_IssuerUnreachable_False()
    {
        var nowhere = new ConfigurationManager<OpenIdConnectConfiguration>(
            $"http://127.0.0.1:{FreePorts.Next()}/.well-known/openid-configuration",
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever { RequireHttps = false });

        Assert.False(await Readiness(Containment(), nowhere).IsReadyAsync(default));
    }

    private GatewayReadiness Readiness(ContainmentRegistry containment, IConfigurationManager<OpenIdConnectConfiguration> issuer, ServingControl? servingControl = null) =>
        new(stack.GatewayServices.GetRequiredService<IInferenceBackend>(), containment, servingControl ?? stack.GatewayServices.GetRequiredService<ServingControl>(), issuer);

    private ContainmentRegistry Containment() => stack.GatewayServices.GetRequiredService<ContainmentRegistry>();

    private IConfigurationManager<OpenIdConnectConfiguration> Issuer() =>
        stack.GatewayServices.GetRequiredKeyedService<IConfigurationManager<OpenIdConnectConfiguration>>("caller-issuer");
}
