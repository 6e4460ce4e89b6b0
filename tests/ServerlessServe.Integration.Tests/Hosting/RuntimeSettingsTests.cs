using System.Text.Json;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Hosting;

/// <summary>
/// What each Function App's build gives the runtime, in both hosts (the Functions host starts the worker with the same
/// <c>dotnet App.dll</c>, so the same runtimeconfig.json applies): the thread pool does not spin before it sleeps.
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Theory]
    [InlineData("ServerlessServe.Gateway")]
    [InlineData("ServerlessServe.Inference")]
    [InlineData("ServerlessServe.Admin")]
    public void FunctionApp_RuntimeConfig_ThreadPoolDoesNotSpin(string app)
    {
        var path = Path.Combine(AppLauncher.AppDirectory(TestBuild.RepositoryRoot, app, TestBuild.BuildConfiguration), app + ".runtimeconfig.json");

        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }

    [Fact]
    public void OtherProcess_RuntimeConfig_KeepsTheRuntimeDefault()
    {
        var path = Path.Combine(AppContext.BaseDirectory, typeof(RuntimeSettingsTests).Assembly.GetName().Name + ".runtimeconfig.json");

        using var json = JsonDocument.Parse(File.ReadAllBytes(path));

        Assert.False(
            json.RootElement.GetProperty("runtimeOptions").TryGetProperty("configProperties", out var properties)
            && properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out _));
    }
}
