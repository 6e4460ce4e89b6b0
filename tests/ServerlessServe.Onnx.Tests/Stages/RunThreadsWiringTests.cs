using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Hosting.DependencyInjection;

namespace ServerlessServe.Onnx.Tests.Stages;

/// <summary>The inference app's runner, as its feature registers it: CUDA runs on threads of the app's own, as many as configured.</summary>
public sealed class RunThreadsWiringTests
{
    [Theory]
    [InlineData(null, 4)]
    [InlineData("1", 1)]
    [InlineData("0", 0)]
    public void InferenceApp_CudaRunThreads_FromConfiguration(string? configured, int expected)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true")]);
        if (configured is not null)
        {
            builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Inference:CudaRunThreads", configured)]);
        }

        builder.AddServerlessServe().AddOnnxInference();
        using var host = builder.Build();

        var runner = host.Services.GetRequiredService<OnnxModelRunner>();

        Assert.Equal(expected, runner.CudaRunThreads?.Max ?? 0);
        Assert.False(runner.RunThreadsForEveryProvider);
        Assert.Same(runner, host.Services.GetRequiredService<DynamicBatcher>().Runner);
    }
}
