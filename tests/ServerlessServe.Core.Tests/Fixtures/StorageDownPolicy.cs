using Azure.Core;
using Azure.Core.Pipeline;

namespace ServerlessServe.Core.Tests.Fixtures;

/// <summary>A storage client pipeline policy: every request fails as a reset connection until <see cref="Up"/> is set.</summary>
public sealed class StorageDownPolicy : HttpPipelinePolicy
{
    private volatile bool _up;

    public bool Up
    {
        get => _up;
        set => _up = value;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (!_up)
        {
            throw new IOException("injected: storage not up yet");
        }

        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
    }
}
