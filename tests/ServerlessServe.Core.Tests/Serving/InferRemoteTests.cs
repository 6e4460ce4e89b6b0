using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Stages;

namespace ServerlessServe.Core.Tests.Serving;

/// <summary>
/// The gateway's infer stage computes a large input's digest for the audit record while the call is in flight, and
/// has it ready whatever the call did; small inputs are left to the audit stage.
/// </summary>
public sealed class InferRemoteTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task LargeInput_DigestReadyAfterTheCall_SameAsAuditWouldCompute(bool callFails)
    {
        var image = new float[3 * 224 * 224];
        for (var i = 0; i < image.Length; i++)
        {
            image[i] = (i % 97) / 97f;
        }

        var context = Context(new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], image));
        var backend = new Backend(callFails);

        if (callFails)
        {
            await Assert.ThrowsAsync<RefusedException>(async () => await new InferRemote(backend).RunAsync(context, CancellationToken.None));
        }
        else
        {
            Assert.True((await new InferRemote(backend).RunAsync(context, CancellationToken.None)).Passed);
        }

        Assert.Equal(TensorDigest.Compute(context.Request!.Inputs), context.InputSha256);
    }

    [Fact]
    public async Task SmallInput_LeftToAudit()
    {
        var context = Context(new Tensor("features", TensorDataType.Fp32, [1, 4], new float[] { 1, 2, 3, 4 }));

        Assert.True((await new InferRemote(new Backend(fails: false)).RunAsync(context, CancellationToken.None)).Passed);

        Assert.Null(context.InputSha256);
    }

    private static InferenceContext Context(Tensor input) => new("r", "m", null, "infer")
    {
        Model = new VerifiedModelVersion(
            new ModelManifest
            {
                Name = "m",
                Version = "1",
                Created = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero),
                SignerKeyId = "test",
                Files = new Dictionary<string, ManifestFile>(),
                Inputs = [new TensorSpec(input.Name, input.DataType, input.Shape)],
                Outputs = [new TensorSpec("y", TensorDataType.Fp32, [-1])],
            },
            "sha256:test",
            new ModelPolicy()),
        Request = new InferenceRequest { Inputs = [input] },
    };

    // The inference app as the stage sees it: an answer, or the refusal of a call that failed.
    private sealed class Backend(bool fails) : IInferenceBackend
    {
        public async Task<InferenceResponse> InferAsync(VerifiedModelVersion model, InferenceRequest request, string requestId, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return fails
                ? throw RefusedException.Unavailable("inference unavailable")
                : new InferenceResponse { ModelName = model.Manifest.Name, Outputs = [] };
        }

        public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => Task.FromResult(true);
    }
}
