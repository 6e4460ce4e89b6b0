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

    /// <summary>
    /// The streamed binary reader makes each tensor's array before its bytes arrive: the body's count takes the tensors'
    /// declared sizes once the header is read, so a request past the budget is refused before any array is made (a
    /// burst of requests each made its array first, review 2026-12-08). Chunked, as the gateway sends it.
    /// </summary>
    [Fact]
    public async Task StreamedBinaryBody_TensorsCountedBeforeTheirArraysAreMade_RefusedBusyAhead()
    {
        var budget = new InferenceBodyBudget(Options.Create(new InferenceOptions { BodyBytesInFlight = 1 << 20 }));
        var stage = new AdmitBody(budget, Limits);
        var read = new ServerlessServe.Core.Serving.Stages.ReadRequest(Limits, null, ServerlessServe.Core.Serving.Stages.BodyReading.StreamBinaryTensors);
        using var other = budget.Reserve();
        Assert.Null(other.TryGrow(900_000));

        // 50,000 FP32 elements, 200,000 bytes: the header and a first part arrive, then the array would be made.
        var encoded = ServerlessServe.Core.Protocol.V2Json.WriteRequest(
            new ServerlessServe.Core.Protocol.InferenceRequest { Inputs = [new ServerlessServe.Core.Protocol.Tensor("x", ServerlessServe.Core.Protocol.TensorDataType.Fp32, [1, 50_000], new float[50_000])] },
            binaryInputs: true,
            binaryOutputs: false);
        // The rest of the body never comes: a read past the header and 1,000 bytes fails the test, so the refusal must
        // come before the array is made and filled.
        var context = new OnnxInferenceContext("r", "m", null, "infer")
        {
            Body = new IncomingBody(new PrefixStream(encoded.Body.ToArray(), encoded.HeaderLength!.Value + 1000), null, "application/octet-stream", null, encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        Assert.True((await stage.RunAsync(context, default)).Passed);

        var refused = await Assert.ThrowsAsync<RefusedException>(async () => await read.RunAsync(context, default));
        Assert.Same(OnnxModelRunner.Busy, refused.Refusal);
        Assert.Null(context.Request);

        // Alone, the same body is read whole, its tensor counted once.
        other.Dispose();
        context.BodyReservation!.Dispose();
        var alone = new OnnxInferenceContext("r2", "m", null, "infer")
        {
            Body = new IncomingBody(new MemoryStream(encoded.Body.ToArray()), null, "application/octet-stream", null, encoded.HeaderLength!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        Assert.True((await stage.RunAsync(alone, default)).Passed);
        Assert.True((await read.RunAsync(alone, default)).Passed);
        Assert.InRange(budget.Held, encoded.Body.Length, encoded.Body.Length + 4L * encoded.HeaderLength.Value);
        alone.BodyReservation!.Dispose();
        Assert.Equal(0, budget.Held);
    }

    /// <summary>A body of which only the first <paramref name="available"/> bytes ever arrive; a read past them fails.</summary>
    private sealed class PrefixStream(byte[] body, int available) : MemoryStream(body, 0, available)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Position < Length ? base.ReadAsync(buffer, cancellationToken) : throw new InvalidOperationException("read past what arrived");
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
