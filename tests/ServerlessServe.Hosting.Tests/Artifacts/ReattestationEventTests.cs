using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Hosting.Artifacts;
using ServerlessServe.Hosting.Tests.Fixtures;

namespace ServerlessServe.Hosting.Tests.Artifacts;

/// <summary>
/// A version whose bytes in the gateway's memory no longer match what was signed stops serving and raises a
/// <c>model-tampered</c> security event, audited through the real writer; an event that cannot be written is raised
/// again at the next re-attestation.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class ReattestationEventTests(InProcessStack stack)
{
    [Fact]
    public async Task Reattest_TamperedInMemory_StopsServingAndRaisesAnAuditedEvent()
    {
        var name = "tamper-" + Guid.NewGuid().ToString("N")[..6];
        var services = stack.GatewayServices;
        await services.GetRequiredService<ModelStore>().PublishAsync(TestPackages.CreditRisk(name, "1"));
        var catalog = services.GetRequiredService<ModelCatalog>();
        var version = await catalog.ResolveAsync(name, "1", default);
        using var reattestation = new CatalogReattestation(catalog, Microsoft.Extensions.Options.Options.Create(new ServingControlOptions()), TimeProvider.System, services, NullLogger<CatalogReattestation>.Instance);

        // A simulated memory corruption of the policy bytes the version was verified from.
        version.Evidence!.PolicyBytes[0] ^= 0x20;
        catalog.Reattest();
        catalog.Reattest();

        Assert.Equal(RefusalKind.Unavailable, (await Assert.ThrowsAsync<RefusedException>(() => catalog.ResolveAsync(name, "1", default))).Kind);

        // The audit trail is down at first: nothing is lost, the event is raised at the next tick.
        await reattestation.RaiseAsync(new RecordingSecurityEvents { AuditUnavailable = true }, default);
        await reattestation.RaiseAsync(stack.SecurityEvents, default);
        await reattestation.RaiseAsync(stack.SecurityEvents, default);

        // (The stack's own hosted re-attestation may raise it too, should its 60 s tick fall within this test.)
        var raised = stack.SecurityEvents.OfKind(SecurityEventKinds.ModelTampered).First(e => e.Model == name);
        Assert.Equal("1", raised.ModelVersion);
        Assert.Equal(version.ManifestDigest, raised.Evidence["manifestDigest"]);
        Assert.Equal("policy bytes differ from their pin", raised.Evidence["reason"]);
        Assert.Equal(ContainmentKind.None, raised.Action.Kind);
        Assert.Contains(await stack.AuditLinesAsync(), l => l.Contains("\"operation\":\"security\"", StringComparison.Ordinal) && l.Contains(raised.Id, StringComparison.Ordinal) && l.Contains(SecurityEventKinds.ModelTampered, StringComparison.Ordinal));
    }
}
