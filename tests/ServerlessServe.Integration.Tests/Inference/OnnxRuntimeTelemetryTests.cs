using System.Net;
using ServerlessServe.Integration.Tests.Fixtures;

namespace ServerlessServe.Integration.Tests.Inference;

/// <summary>
/// ONNX Runtime's official Linux builds send telemetry to Microsoft unless <c>ORT_DISABLE_TELEMETRY=1</c> is set before
/// they load; with it on they keep a device id and an event store (session events with model names, error messages
/// that can quote a caller's input) under <c>$HOME/.cache</c>. The stack starts the inference app with its own
/// <c>HOME</c> and <c>ORT_DISABLE_TELEMETRY=0</c>: the app itself must turn the telemetry off, whichever host runs it
/// (docs/design.md, "ONNX Runtime's telemetry").
/// </summary>
[Collection(StackCollection.Name)]
public sealed class OnnxRuntimeTelemetryTests(StackFixture fixture)
{
    [StackFact]
    public async Task InferenceApp_AfterASessionAndARun_KeepsNoTelemetry()
    {
        // A session and a run: events ONNX Runtime's telemetry records (as it does its own start).
        using var response = await fixture.Gateway.PostAsync(
            "v2/models/credit-risk/versions/1/infer",
            StackFixture.Json("""{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"""));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

        // With telemetry on, ONNX Runtime writes its device id and event store as it loads, before any session
        // (under $HOME/.cache/Microsoft/DeveloperTools/.onnxruntime).
        var kept = Directory.Exists(fixture.InferenceHome)
            ? Directory.GetFiles(fixture.InferenceHome, "*", SearchOption.AllDirectories)
                .Where(static f => f.Contains(".onnxruntime", StringComparison.Ordinal))
                .ToList()
            : [];
        Assert.Empty(kept);
    }
}
