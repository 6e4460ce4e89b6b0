using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Core.Serving.Stages;

namespace ServerlessServe.Core.Tests.Serving;

/// <summary>
/// The misses allowance as the pipelines compose it: misses (after authenticate) reads it, miss (closing) spends it on a
/// request refused as a model its caller cannot have, and a caller out of misses is refused before the model is named
/// to any later stage.
/// </summary>
public sealed class MissStagesTests : IDisposable
{
    private readonly CallerPseudonymizer _pseudonymizer = new(RandomNumberGenerator.GetBytes(32));
    private readonly RequestLimits _limits = new(Options.Create(new LimitOptions { MissesPerSecond = 0.01, MissBurst = 3 }));

    public void Dispose() => _limits.Dispose();

    public static TheoryData<string, string, bool> Refusals() => new()
    {
        { "resolve", "not_found", true },
        { "honey-model", "not_found", true },
        { "resolve", "unavailable:access_unproven", true },
        { "authorize", "forbidden", true },
        { "honey-caller", "forbidden", true },
        { "resolve", "unavailable", false },
        { "resolve", "invalid", false },
        { "honey-model", "invalid", false },
        { "contain", "forbidden", false },
        { "limit", "rate_limited", false },
        { "authenticate", "unauthenticated", false },
        { "validate", "invalid", false },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void IsMiss_WhatTheHiddenModelAnswerCovers(string stage, string refusal, bool miss) =>
        Assert.Equal(miss, ChargeMisses.IsMiss(Refusal(refusal), stage));

    [Fact]
    public void IsMiss_NoRefusal_NotAMiss() => Assert.False(ChargeMisses.IsMiss(null, null));

    [Fact]
    public async Task UnknownModels_SpendTheAllowance_ThenEveryModelRequest429BeforeTheModelIsLookedUp()
    {
        var lookups = 0;
        var unknown = Pipeline(new Step("resolve", () => { lookups++; return ModelCatalog.UnknownModel(null); }));
        for (var i = 0; i < 3; i++)
        {
            var missed = await RunAsync(unknown, "prober");
            Assert.Equal("resolve", missed.RefusedAt);
            Assert.Equal(RefusalKind.NotFound, missed.Refusal!.Kind);
        }

        var refused = await RunAsync(unknown, "prober");
        Assert.Equal("misses", refused.RefusedAt);
        Assert.Equal(RefusalKind.RateLimited, refused.Refusal!.Kind);
        Assert.True(refused.Refusal.RetryAfter >= TimeSpan.FromSeconds(1));
        Assert.Equal(3, lookups);
        Assert.DoesNotContain(refused.Verdicts, v => v.Stage == "resolve");

        // A model the caller may use gets the same 429 while it is out of misses: the answer does not depend on the model.
        var served = Pipeline(new Step("resolve", () => StageOutcome.Pass));
        Assert.Equal("misses", (await RunAsync(served, "prober")).RefusedAt);

        // Another caller is served and spends nothing of the prober's allowance.
        var other = await RunAsync(served, "steady");
        Assert.Null(other.Refusal);
    }

    [Fact]
    public async Task ServedRequests_AndOtherRefusals_SpendNothing()
    {
        var served = Pipeline(new Step("resolve", () => StageOutcome.Pass));
        var limited = Pipeline(new Step("limit", () => Core.Pipeline.Refusal.RateLimited("too many requests")));
        for (var i = 0; i < 10; i++)
        {
            Assert.Null((await RunAsync(served, "busy")).Refusal);
            Assert.Equal("limit", (await RunAsync(limited, "busy")).RefusedAt);
        }

        Assert.Null(Check(_limits, _pseudonymizer.Pseudonymize("busy")));
    }

    [Fact]
    public async Task LookAhead_NotCharged_TheRequestsOwnRunIs()
    {
        var unknown = Pipeline(new Step("resolve", () => ModelCatalog.UnknownModel(null)));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("resolve", (await RunAsync(unknown, "ahead", lookAhead: true)).RefusedAt);
        }

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("resolve", (await RunAsync(unknown, "ahead")).RefusedAt);
        }

        Assert.Equal("misses", (await RunAsync(unknown, "ahead")).RefusedAt);
    }

    private static Refusal Refusal(string verdict) => verdict switch
    {
        "not_found" => ModelCatalog.UnknownModel(null),
        "unavailable:access_unproven" => Core.Pipeline.Refusal.Unavailable("model version unavailable") with { Reason = ResolveModel.AccessUnproven },
        "unavailable" => Core.Pipeline.Refusal.Unavailable("model version unavailable"),
        "invalid" => Core.Pipeline.Refusal.Invalid("invalid model version"),
        "forbidden" => Core.Pipeline.Refusal.Denied,
        "rate_limited" => Core.Pipeline.Refusal.RateLimited("too many requests"),
        "unauthenticated" => Core.Pipeline.Refusal.InvalidToken,
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };

    private StagePipeline<ModelRequestContext> Pipeline(Step model) => new(
        [new Step("authenticate", () => StageOutcome.Pass), new CheckMisses(_limits, _pseudonymizer), model],
        [new ChargeMisses(_limits, _pseudonymizer)],
        TimeProvider.System,
        NullLogger<StagePipeline<ModelRequestContext>>.Instance);

    private static async Task<ModelRequestContext> RunAsync(StagePipeline<ModelRequestContext> pipeline, string subject, bool lookAhead = false)
    {
        var context = new ModelRequestContext(Guid.NewGuid().ToString("N"), "some-model", null)
        {
            Caller = new CallerIdentity(subject, []),
            LookAhead = lookAhead,
        };
        await pipeline.RunAsync(context, CancellationToken.None);
        return context;
    }

    private sealed class Step(string name, Func<StageOutcome> run) : IRequestStage<ModelRequestContext>
    {
        public string Name => name;

        public ValueTask<StageOutcome> RunAsync(ModelRequestContext context, CancellationToken cancellationToken) => ValueTask.FromResult(run());
    }

    // A request's check of its caller's misses that turns out not to be one: what the misses stage and authorize do.
    private static Refusal? Check(RequestLimits limits, string caller)
    {
        var refusal = limits.ReserveMiss(caller, out var reservation);
        reservation?.Settle(miss: false);
        return refusal;
    }
}
