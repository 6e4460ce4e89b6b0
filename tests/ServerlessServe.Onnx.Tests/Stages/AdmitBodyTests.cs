using Microsoft.Extensions.Options;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;
using ServerlessServe.Onnx.Stages;

namespace ServerlessServe.Onnx.Tests.Stages;

/// <summary>The inference app's <c>admit</c>: bodies counted before read against <see cref="InferenceOptions.BodyBytesInFlight"/>.</summary>
public sealed class AdmitBodyTests
{
    private static readonly ProtocolLimits Limits = new() { MaxBodyBytes = 1 << 20, MaxElementsPerRequest = 1 << 16 };

    [Fact]
    public async Task BodiesPastTheBudget_RefusedVersionScopedWithRetryAfter_AloneAlwaysLetIn_GivenBackOnDispose()
    {
        var budget = new InferenceBodyBudget(Options.Create(new InferenceOptions { BodyBytesInFlight = 3000 }));
        var stage = new AdmitBody(budget, Limits);

        // Binary: its length once (read straight into the tensors). JSON: its length and up to 4 bytes a character.
        var binary = Context(2000, binary: true);
        Assert.True((await stage.RunAsync(binary, default)).Passed);
        Assert.Equal(2000, budget.Held);

        var json = Context(500, binary: false);
        var refused = await stage.RunAsync(json, default);
        Assert.False(refused.Passed);
        Assert.Same(OnnxModelRunner.Busy, refused.Refusal);
        Assert.True(refused.Refusal!.VersionScoped);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Refusal.RetryAfter);
        Assert.Null(json.BodyReservation);
        Assert.Equal(2000, budget.Held);

        binary.BodyReservation!.Dispose();
        binary.BodyReservation.Dispose();
        Assert.Equal(0, budget.Held);

        // Alone, a body larger than the budget is let in (the body limit decides its size); no length: the limit.
        var unsized = Context(null, binary: true);
        Assert.True((await stage.RunAsync(unsized, default)).Passed);
        Assert.Equal(1 << 20, budget.Held);
        Assert.False((await stage.RunAsync(Context(1, binary: true), default)).Passed);
        unsized.BodyReservation!.Dispose();
        Assert.Equal(0, budget.Held);

        var whole = Context(500, binary: false);
        Assert.True((await stage.RunAsync(whole, default)).Passed);
        Assert.Equal(2500, budget.Held);
        whole.BodyReservation!.Dispose();
    }

    private static OnnxInferenceContext Context(long? length, bool binary) => new("r", "m", null, "infer")
    {
        Body = new IncomingBody(Stream.Null, length, binary ? "application/octet-stream" : "application/json", null, binary ? "10" : null),
    };
}
