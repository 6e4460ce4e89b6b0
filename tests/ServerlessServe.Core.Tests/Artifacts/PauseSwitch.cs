using Azure.Core;
using Azure.Core.Pipeline;

namespace ServerlessServe.Core.Tests.Artifacts;

/// <summary>
/// A storage client pipeline step that makes every request fail as an unreachable store does while <see cref="On"/> is
/// set; otherwise the request goes to the real store.
/// </summary>
internal sealed class PauseSwitch : HttpPipelinePolicy
{
    public volatile bool On;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ThrowIfOn();
        ProcessNext(message, pipeline);
    }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ThrowIfOn();
        return ProcessNextAsync(message, pipeline);
    }

    private void ThrowIfOn()
    {
        if (On)
        {
            throw new IOException("the store is paused (test switch)");
        }
    }
}
