using System.Diagnostics;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Telemetry;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The gateway's span of a request is a trace the gateway owns: a caller's <c>traceparent</c> (found in review: it
/// picked the trace id and, flagged not sampled, switched the gateway's spans off) is only a link, and its baggage and
/// trace state do not travel on.
/// </summary>
public sealed class GatewaySpanTests
{
    [Theory]
    [InlineData(ActivityTraceFlags.None)]
    [InlineData(ActivityTraceFlags.Recorded)]
    public void GatewaySpan_CallersTraceContext_NewRecordedTraceWithALinkToIt(ActivityTraceFlags callerFlags)
    {
        using var listener = ParentBasedExporter();
        var callerTrace = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var incoming = new Activity("caller-request");
        incoming.SetParentId(callerTrace, callerSpan, callerFlags);
        incoming.TraceStateString = "vendor=caller-chosen";
        incoming.AddBaggage("caller", "chosen");
        incoming.Start();

        var span = ServingTelemetry.StartGatewayInfer("gateway.infer");

        Assert.NotNull(span);
        using (span)
        {
            Assert.Same(span, Activity.Current);
            Assert.True(span.Recorded);
            Assert.NotEqual(callerTrace, span.TraceId);
            Assert.Equal(default, span.ParentSpanId);
            Assert.Null(span.TraceStateString);
            Assert.Empty(span.Baggage);
            var link = Assert.Single(span.Links);
            Assert.Equal((callerTrace, incoming.SpanId), (link.Context.TraceId, link.Context.SpanId));
        }
    }

    [Fact]
    public void GatewaySpan_NoListener_CallersActivityStaysCurrent()
    {
        using var incoming = new Activity("caller-request").Start();

        var span = ServingTelemetry.StartGatewayInfer("gateway.infer-unheard");

        Assert.Null(span);
        Assert.Same(incoming, Activity.Current);
    }

    // What OpenTelemetry's default sampler does: a child follows its parent's sampled flag; a root is recorded.
    private static ActivityListener ParentBasedExporter()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == TelemetryExtensions.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Name == "gateway.infer-unheard" ? ActivitySamplingResult.None
                : options.Parent == default || options.Parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? ActivitySamplingResult.AllDataAndRecorded
                : ActivitySamplingResult.None,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
