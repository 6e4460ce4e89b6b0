using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// A model's answer that a job's steps pass each other is read back with the limits the gateway read it from the
/// inference app with, not a caller's request caps: what inline infer returns, a job returns too (review 2026-12-08:
/// a 21×512×512 mask, 65 outputs or a long output name were refused as too large at the redact step).
/// </summary>
public sealed class JobResponseLimitsTests
{
    [Fact]
    public void AnswerPastTheRequestCaps_ReadBackAsJson()
    {
        var caps = new ProtocolLimits();
        var mask = new Tensor("mask", TensorDataType.Fp32, [21, 512, 512], new float[21 * 512 * 512]);
        var many = Enumerable.Range(0, caps.MaxTensors).Select(i => new Tensor("o" + i, TensorDataType.Fp32, [1], new[] { 1f }));
        var named = new Tensor(new string('n', caps.MaxNameLength + 1), TensorDataType.Fp32, [1], new[] { 2f });
        var json = V2Json.WriteResponse(new InferenceResponse { ModelName = "m", Outputs = [mask, .. many, named] }, binaryAll: false, binaryOutputs: null).Body;

        var read = V2Json.ReadResponse(json, null, JobActivities.ResponseLimits(caps));

        Assert.Equal(caps.MaxTensors + 2, read.Outputs.Count);
        Assert.Equal([21, 512, 512], read.Outputs[0].Shape);

        // The caller's caps, as the steps read it before, refuse it.
        Assert.Throws<RefusedException>(() => V2Json.ReadResponse(json, null, caps.WithoutBodyLimit()));
    }
}
