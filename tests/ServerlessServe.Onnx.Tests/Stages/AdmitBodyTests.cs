using Microsoft.Extensions.Options;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Serving;
using ServerlessServe.Onnx.Stages;

namespace ServerlessServe.Onnx.Tests.Stages;

/// <summary>The inference app's <c>admit</c>: bodies counted as read reads them against <see cref="InferenceOptions.BodyBytesInFlight"/>.</summary>
public sealed class AdmitBodyTests
{
    private static readonly ServerlessServe.Core.Protocol.ProtocolLimits Limits = new() { MaxBodyBytes = 1 << 20, MaxElementsPerRequest = 1 << 16 };

    [Fact]
    public async Task BodiesPastTheBudget_ReadEndsBusy_AloneAlwaysLetIn_GivenBackOnDispose()
    {
        var budget = new InferenceBodyBudget(Options.Create(new InferenceOptions { BodyBytesInFlight = 3000 }));
        var stage = new AdmitBody(budget, Limits);

        // Binary, streamed into the tensors: its bytes as they arrive, and only what its JSON header could decode to besides.
        var binary = await AdmittedAsync(stage, 2000, header: 10);
        await ReadAllAsync(binary);
        Assert.Equal(2000 + 40, budget.Held);

        // JSON: its bytes, then its length again (put together) and up to 4 bytes a character (decoded): past the budget.
        var json = await AdmittedAsync(stage, 300, header: null);
        var refused = await Assert.ThrowsAsync<RefusedException>(() => ReadAllAsync(json));
        Assert.Same(OnnxModelRunner.Busy, refused.Refusal);
        Assert.True(refused.Refusal.VersionScoped);
        Assert.Equal(ServerlessServe.Hosting.Http.V2Results.BusyReason, refused.Refusal.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Refusal.RetryAfter);
        Assert.Equal(2040 + 300, budget.Held);
        json.BodyReservation!.Dispose();
        Assert.Equal(2040, budget.Held);

        binary.BodyReservation!.Dispose();
        binary.BodyReservation.Dispose();
        Assert.Equal(0, budget.Held);

        // Alone, a body larger than the budget is let in (the body limit decides its size).
        var large = await AdmittedAsync(stage, 5000, header: 10);
        await ReadAllAsync(large);
        Assert.Equal(5040, budget.Held);
        large.BodyReservation!.Dispose();
        Assert.Equal(0, budget.Held);
    }

    private static async Task<OnnxInferenceContext> AdmittedAsync(AdmitBody stage, int length, int? header)
    {
        var context = new OnnxInferenceContext("r", "m", null, "infer")
        {
            Body = new IncomingBody(new MemoryStream(new byte[length]), length, header is null ? "application/json" : "application/octet-stream", null, header?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        Assert.True((await stage.RunAsync(context, default)).Passed);
        return context;
    }

    private static async Task ReadAllAsync(OnnxInferenceContext context)
    {
        var buffer = new byte[100];
        while (await context.Body!.Content.ReadAsync(buffer) > 0)
        {
        }
    }
}
