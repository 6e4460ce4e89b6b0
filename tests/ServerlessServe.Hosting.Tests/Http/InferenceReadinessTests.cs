using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Tests.Fixtures;
using ServerlessServe.Onnx;

namespace ServerlessServe.Hosting.Tests.Http;

/// <summary>
/// The inference app's readiness follows its view of the signed lifecycle documents and revocation list: not ready
/// (503) until they have been read once, ready once read.
/// </summary>
[Collection(InProcessStackCollection.Name)]
public sealed class InferenceReadinessTests(InProcessStack stack)
{
    [Fact]
    public void Ready_ServingControlRead_200()
    {
        var ready = Assert.IsType<BodyResult>(stack.InferenceServices.GetRequiredService<InferenceEndpoints>().Ready());
        Assert.Equal(200, ready.StatusCode);
    }

    [Fact]
    public async Task Ready_ServingControlNeverRead_503ThenReadyOnceRead()
    {
        var services = stack.InferenceServices;
        var unread = new ServingControl(
            new ControlStore(services.GetRequiredService<ModelStore>().Container, services.GetRequiredService<TrustedSigners>()),
            Microsoft.Extensions.Options.Options.Create(new ServingControlOptions()),
            TimeProvider.System,
            NullLogger<ServingControl>.Instance);
        var endpoints = new InferenceEndpoints(
            services.GetRequiredService<StagePipeline<OnnxModelContext>>(),
            services.GetRequiredService<StagePipeline<OnnxInferenceContext>>(),
            unread,
            TimeProvider.System);

        Assert.Equal(503, Assert.IsType<BodyResult>(endpoints.Ready()).StatusCode);
        await unread.RefreshAsync(CancellationToken.None);
        Assert.Equal(200, Assert.IsType<BodyResult>(endpoints.Ready()).StatusCode);
    }
}
