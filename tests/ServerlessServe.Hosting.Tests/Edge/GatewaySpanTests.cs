using System.Diagnostics;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Telemetry;

namespace ServerlessServe.Hosting.Tests.Edge;

/// <summary>
/// The gateway's span of a request is a trace the gateway owns: a caller's <c>traceparent</c> (found in review: it
/// picked the trace id and, flagged not sampled, switched the gateway's spans off) is only a link, and its baggage and
/// trace state do not travel on, whether or not anything records the gateway's spans.
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

    /// <summary>
    /// Nothing records the gateway's span (no exporter): the caller's activity is not put back as the current one. It
    /// was (review, 2026-12-07), so it still parented the stage spans, and the call to the inference app carried its
    /// trace state and baggage there; with none current, an outbound call carries none of the caller's context.
    /// </summary>
    [Fact]
    public async Task GatewaySpan_NoListener_CallersActivityNotCurrentForTheRequest()
    {
        using var incoming = new Activity("caller-request");
        incoming.TraceStateString = "vendor=caller-chosen";
        incoming.AddBaggage("pii", "jane.doe@example.com");
        incoming.Start();

        var (span, current) = await HandlerAsync(() => ServingTelemetry.StartGatewayInfer("gateway.infer-unheard"));

        Assert.Null(span);
        Assert.Null(current);
        Assert.Same(incoming, Activity.Current); // the handler's change stays in the handler
    }

    /// <summary>The routes that open no span of their own (metadata, readiness, jobs) leave the caller's context too.</summary>
    [Fact]
    public async Task DetachFromCaller_TheHandlersWorkHasNoCurrentActivity()
    {
        using var incoming = new Activity("caller-request").Start();

        var (_, current) = await HandlerAsync(() =>
        {
            ServingTelemetry.DetachFromCaller();
            return (Activity?)null;
        });

        Assert.Null(current);
        Assert.Same(incoming, Activity.Current);
    }

    // Runs start as an async request handler's first step, then reports the current activity after an await in it.
    private static async Task<(Activity? Span, Activity? Current)> HandlerAsync(Func<Activity?> start)
    {
        var span = start();
        await Task.Yield();
        return (span, Activity.Current);
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
