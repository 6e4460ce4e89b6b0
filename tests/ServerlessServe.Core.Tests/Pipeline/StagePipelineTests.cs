using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Pipeline;

namespace ServerlessServe.Core.Tests.Pipeline;

public sealed class StagePipelineTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<StagePipeline<TestContext>> _logger = new();

    [Fact]
    public async Task RunAsync_AllPass_EveryStageInOrderThenClosing()
    {
        var ran = new List<string>();
        var pipeline = Pipeline([Stage("a", ran), Stage("b", ran)], [Stage("close", ran)]);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Null(refusal);
        Assert.Equal(["a", "b", "close"], ran);
        Assert.Equal(["a:pass", "b:pass", "close:pass"], context.Verdicts.Select(v => $"{v.Stage}:{v.Verdict}"));
    }

    [Fact]
    public async Task RunAsync_StageRefuses_LaterStagesSkippedClosingStillRuns()
    {
        var ran = new List<string>();
        var pipeline = Pipeline([Stage("a", ran), Stage("b", ran, _ => Refusal.Forbidden("no")), Stage("c", ran)], [Stage("close", ran)]);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(RefusalKind.Forbidden, refusal!.Kind);
        Assert.Equal("b", context.RefusedAt);
        Assert.Equal(["a", "b", "close"], ran);
        Assert.Equal("refused:forbidden", context.VerdictsByStage()["b"]);
        Assert.False(context.VerdictsByStage().ContainsKey("c"));
    }

    [Fact]
    public async Task RunAsync_RefusedExceptionDeepInAStage_BecomesItsRefusal()
    {
        var pipeline = Pipeline([Stage("read", [], _ => throw RefusedException.TooLarge("request body exceeds 10 bytes"))], []);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(Refusal.TooLarge("request body exceeds 10 bytes"), refusal);
        Assert.Equal("refused:too_large", context.VerdictsByStage()["read"]);
    }

    [Fact]
    public async Task RunAsync_UnexpectedException_FailedWithNothingEchoedAndLogged()
    {
        var pipeline = Pipeline([Stage("infer", [], _ => throw new InvalidOperationException("secret internal detail"))], []);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(RefusalKind.Failed, refusal!.Kind);
        Assert.Equal("internal error", refusal.Message);
        var error = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.IsType<InvalidOperationException>(error.Exception);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ExceptionMessageQuotesPersonalData_LoggedRedacted()
    {
        var pipeline = Pipeline([Stage("validate", [], _ => throw new FormatException("no caller for bob\uFF20example.org, card 4111\u20131111\u20131111\u20131111"))], []);

        var refusal = await pipeline.RunAsync(new TestContext(), CancellationToken.None);

        Assert.Equal(RefusalKind.Failed, refusal!.Kind);
        var error = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.Equal("no caller for [EMAIL], card [CREDIT_CARD]", error.Exception!.Message);
        Assert.Contains("System.FormatException (redacted)", error.Exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_CancelledAndClosingRunsUncancelled()
    {
        using var cts = new CancellationTokenSource();
        var closingToken = new CancellationToken(true);
        var pipeline = Pipeline(
            [Stage("read", [], ct => { cts.Cancel(); ct.ThrowIfCancellationRequested(); return StageOutcome.Pass; })],
            [Stage("audit", [], ct => { closingToken = ct; return StageOutcome.Pass; })]);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, cts.Token);

        // The closing stage runs on its own deadline, not the caller's connection.
        Assert.Equal(RefusalKind.Cancelled, refusal!.Kind);
        Assert.False(closingToken.IsCancellationRequested);
        Assert.False(cts.Token == closingToken);
    }

    [Fact]
    public async Task RunAsync_ClosingStageRefuses_ItsRefusalStands()
    {
        var pipeline = Pipeline([Stage("a", [])], [Stage("audit", [], _ => Refusal.Unavailable("audit log unavailable; response withheld"))]);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(RefusalKind.Unavailable, refusal!.Kind);
        Assert.Equal("audit", context.RefusedAt);
    }

    [Fact]
    public async Task RunAsync_StageTime_RecordedFromTheTimeProvider()
    {
        var pipeline = Pipeline([Stage("slow", [], _ => { _time.Advance(TimeSpan.FromMilliseconds(250)); return StageOutcome.Pass; })], []);
        var context = new TestContext();

        await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(250, Assert.Single(context.Verdicts).ElapsedMs, precision: 3);
    }

    [Fact]
    public async Task RunAsync_Current_TheContextWhileItsStagesRunThenNone()
    {
        RequestContext? seen = null;
        var pipeline = Pipeline([Stage("a", [], _ => { seen = RequestContext.Current; return StageOutcome.Pass; })], []);
        var context = new TestContext();

        await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Same(context, seen);
        Assert.Null(RequestContext.Current);
    }

    [Fact]
    public async Task RunAsync_StageOutlivesTheBudget_RefusedUnavailableForTheDeadlineAndClosingStillRuns()
    {
        var closingCancelled = true;
        var pipeline = Pipeline(
            [Stage("infer", [], ct => { _time.Advance(TimeSpan.FromSeconds(2)); ct.ThrowIfCancellationRequested(); return StageOutcome.Pass; }), Stage("encode", [])],
            [Stage("audit", [], ct => { closingCancelled = ct.IsCancellationRequested; return StageOutcome.Pass; })],
            new DeadlineOptions { Request = TimeSpan.FromSeconds(1) });
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(RefusalKind.Unavailable, refusal!.Kind);
        Assert.Equal(TimeSpan.FromSeconds(1), refusal.RetryAfter);
        Assert.Equal("refused:unavailable:deadline", context.VerdictsByStage()["infer"]);
        Assert.False(context.VerdictsByStage().ContainsKey("encode"));
        Assert.Equal("pass", context.VerdictsByStage()["audit"]);
        Assert.False(closingCancelled);
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Id.Id == 1303);
    }

    [Fact]
    public async Task RunAsync_CallerLeaves_CancelledNotADeadline()
    {
        using var caller = new CancellationTokenSource();
        var pipeline = Pipeline([Stage("infer", [], ct => { caller.Cancel(); ct.ThrowIfCancellationRequested(); return StageOutcome.Pass; })], [], new DeadlineOptions { Request = TimeSpan.FromSeconds(1) });
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, caller.Token);

        Assert.Same(Refusal.Cancelled, refusal);
    }

    [Fact]
    public async Task RunAsync_UnbudgetedStage_ItsTimeIsNotCountedAgainstTheBudget()
    {
        var tokens = new List<bool>();
        var pipeline = Pipeline(
            [
                Stage("a", [], ct => { _time.Advance(TimeSpan.FromMilliseconds(600)); tokens.Add(ct.IsCancellationRequested); return StageOutcome.Pass; }),
                new UnbudgetedStage("read", ct => { _time.Advance(TimeSpan.FromSeconds(30)); tokens.Add(ct.IsCancellationRequested); return StageOutcome.Pass; }),
                Stage("b", [], ct => { _time.Advance(TimeSpan.FromMilliseconds(300)); tokens.Add(ct.IsCancellationRequested); return StageOutcome.Pass; }),
                Stage("c", [], ct => { _time.Advance(TimeSpan.FromMilliseconds(200)); ct.ThrowIfCancellationRequested(); return StageOutcome.Pass; }),
            ],
            [],
            new DeadlineOptions { Request = TimeSpan.FromSeconds(1) });
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        // 600 + 300 ms of budgeted time pass; the 30 s of reading do not count; the next 200 ms go past the second.
        Assert.Equal([false, false, false], tokens);
        Assert.Equal("refused:unavailable:deadline", context.VerdictsByStage()["c"]);
        Assert.Equal(RefusalKind.Unavailable, refusal!.Kind);
    }

    [Fact]
    public async Task RunAsync_StageCap_RefusesThatStageWithinTheBudget()
    {
        var options = new DeadlineOptions { Request = TimeSpan.FromSeconds(10) };
        options.Stages["infer"] = TimeSpan.FromMilliseconds(100);
        var pipeline = Pipeline(
            [
                Stage("validate", [], _ => { _time.Advance(TimeSpan.FromMilliseconds(500)); return StageOutcome.Pass; }),
                Stage("infer", [], ct => { _time.Advance(TimeSpan.FromMilliseconds(200)); ct.ThrowIfCancellationRequested(); return StageOutcome.Pass; }),
            ],
            [],
            options);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal("pass", context.VerdictsByStage()["validate"]);
        Assert.Equal("refused:unavailable:deadline", context.VerdictsByStage()["infer"]);
        Assert.Equal(RefusalKind.Unavailable, refusal!.Kind);
    }

    /// <summary>
    /// A stage that does not watch its token (validate, screen) runs past the whole request's budget: the capped stage
    /// after it has less than nothing left. It is refused at the deadline, and the closing stage (audit) still runs;
    /// the timed token source threw for a negative budget, out of the pipeline, with no audit.
    /// </summary>
    [Fact]
    public async Task RunAsync_StageCapAfterTheBudgetRanOut_RefusedAtTheDeadlineAndClosingStillRuns()
    {
        var ran = new List<string>();
        var options = new DeadlineOptions { Request = TimeSpan.FromSeconds(1) };
        options.Stages["infer"] = TimeSpan.FromMilliseconds(100);
        var pipeline = Pipeline(
            [
                Stage("screen", ran, _ => { _time.Advance(TimeSpan.FromSeconds(2)); return StageOutcome.Pass; }),
                Stage("infer", ran, ct => { ct.ThrowIfCancellationRequested(); return StageOutcome.Pass; }),
            ],
            [Stage("audit", ran)],
            options);
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(["screen", "infer", "audit"], ran);
        Assert.Equal("refused:unavailable:deadline", context.VerdictsByStage()["infer"]);
        Assert.Equal("pass", context.VerdictsByStage()["audit"]);
        Assert.Equal(RefusalKind.Unavailable, refusal!.Kind);
    }

    [Fact]
    public async Task RunAsync_ClosingStageOutlivesItsOwnDeadline_RefusedUnavailable()
    {
        var pipeline = Pipeline(
            [Stage("infer", [])],
            [Stage("audit", [], ct => { _time.Advance(TimeSpan.FromSeconds(3)); ct.ThrowIfCancellationRequested(); return StageOutcome.Pass; })],
            new DeadlineOptions { Closing = TimeSpan.FromSeconds(2) });
        var context = new TestContext();

        var refusal = await pipeline.RunAsync(context, CancellationToken.None);

        Assert.Equal(RefusalKind.Unavailable, refusal!.Kind);
        Assert.Equal("audit", context.RefusedAt);
    }

    [Fact]
    public void Constructor_NonPositiveDeadline_Throws() =>
        Assert.ThrowsAny<System.ComponentModel.DataAnnotations.ValidationException>(() => Pipeline([], [], new DeadlineOptions { Request = TimeSpan.Zero }));

    /// <summary>
    /// A deadline past what a timer takes (about 49.7 days) threw when each request built it, outside the stages: no
    /// closing stage, no release of the request's places (review, 2026-12-07). Refused at start; a day is the most.
    /// </summary>
    [Fact]
    public void Constructor_DeadlineBeyondADay_Throws()
    {
        var stageCap = new DeadlineOptions { Request = Timeout.InfiniteTimeSpan };
        stageCap.Stages["infer"] = TimeSpan.FromDays(60);

        Assert.ThrowsAny<System.ComponentModel.DataAnnotations.ValidationException>(() => Pipeline([], [], new DeadlineOptions { Closing = TimeSpan.FromDays(60) }));
        Assert.ThrowsAny<System.ComponentModel.DataAnnotations.ValidationException>(() => Pipeline([], [], stageCap));
        Assert.NotNull(Pipeline([], [], new DeadlineOptions { Request = TimeSpan.FromDays(1), Closing = TimeSpan.FromDays(1) }));
    }

    [Fact]
    public void Constructor_DuplicateStageNames_Throws() =>
        Assert.Throws<ArgumentException>(() => Pipeline([Stage("a", []), Stage("a", [])], []));

    private StagePipeline<TestContext> Pipeline(IRequestStage<TestContext>[] stages, IRequestStage<TestContext>[] closing, DeadlineOptions? deadlines = null) =>
        new(stages, closing, _time, _logger, deadlines);

    private static DelegateStage Stage(string name, List<string> ran, Func<CancellationToken, StageOutcome>? run = null) =>
        new(name, ran, run ?? (_ => StageOutcome.Pass));

    public sealed class TestContext() : RequestContext("request-1");

    private sealed class DelegateStage(string name, List<string> ran, Func<CancellationToken, StageOutcome> run) : IRequestStage<TestContext>
    {
        public string Name => name;

        public ValueTask<StageOutcome> RunAsync(TestContext context, CancellationToken cancellationToken)
        {
            ran.Add(name);
            return ValueTask.FromResult(run(cancellationToken));
        }
    }

    private sealed class UnbudgetedStage(string name, Func<CancellationToken, StageOutcome> run) : IRequestStage<TestContext>, IUnbudgetedStage
    {
        public string Name => name;

        public ValueTask<StageOutcome> RunAsync(TestContext context, CancellationToken cancellationToken) => ValueTask.FromResult(run(cancellationToken));
    }
}
