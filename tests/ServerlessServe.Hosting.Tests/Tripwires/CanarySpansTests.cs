using System.Diagnostics;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Tripwires;

namespace ServerlessServe.Hosting.Tests.Tripwires;

/// <summary>A span an exporter records that carries a canary value raises one <c>canary-telemetry</c> event when it stops.</summary>
public sealed class CanarySpansTests
{
    private const string Token = "span-canary-for-span-tests";

    [Fact]
    public async Task Span_TagCarryingACanary_OneEventOnStop()
    {
        await using var services = await TripwireServices.StartAsync(new Dictionary<string, string?> { ["ServerlessServe:Canaries:Tokens:0"] = Token });
        using var exporter = Exporter();

        using (var span = PipelineTelemetry.ActivitySource.StartActivity("span-tests"))
        {
            span!.SetTag("note", "x " + Token);
            span.AddEvent(new ActivityEvent("also " + Token));
        }

        using (var clean = PipelineTelemetry.ActivitySource.StartActivity("span-tests"))
        {
            clean!.SetTag("note", "nothing here");
        }

        await services.StopAsync();
        var raised = Assert.Single(services.Events.Raised, e => e.Evidence.TryGetValue("name", out var name) && name == "span-tests");
        Assert.Equal(SecurityEventKinds.CanaryTelemetry, raised.Kind);
        Assert.Equal(("span", CanaryTokens.IdOf(Token)), (raised.Evidence["source"], raised.Evidence["canaries"]));
    }

    [Fact]
    public async Task Listener_NeverTheReasonASpanIsRecorded()
    {
        await using var services = await TripwireServices.StartAsync(new Dictionary<string, string?> { ["ServerlessServe:Canaries:Tokens:0"] = Token });
        using var listener = (ActivityListener)CanarySpans.Listen(services.Queue, new CanaryTokens([Token]));
        var options = default(ActivityCreationOptions<ActivityContext>);
        var byParent = default(ActivityCreationOptions<string>);

        Assert.Equal(ActivitySamplingResult.None, listener.Sample!(ref options));
        Assert.Equal(ActivitySamplingResult.None, listener.SampleUsingParentId!(ref byParent));
    }

    private static ActivityListener Exporter()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PipelineTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
