using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServerlessServe.Gateway;
using ServerlessServe.Hosting.Standalone;

namespace ServerlessServe.Hosting.Tests.Functions;

/// <summary>
/// Parity over every trigger, not only HTTP: the standalone host registers exactly the orchestrators, activities and
/// timers that the build's functions.metadata declares, and refuses to start on a trigger nothing runs standalone.
/// </summary>
public sealed class StandaloneTriggerTests : IDisposable
{
    private static readonly string GatewayDirectory = Path.Combine(AppContext.BaseDirectory, "apps", "ServerlessServe.Gateway");
    private readonly string _directory = Directory.CreateTempSubdirectory("ss-triggers-").FullName;

    [Fact]
    public async Task Gateway_DurableTaskRegistry_IsExactlyTheMetadatasOrchestratorsAndActivities()
    {
        await using var app = StandaloneHost.Build(typeof(GatewayApp).Assembly, [], GatewayApp.Configure, appDirectory: GatewayDirectory);

        var registry = app.Services.GetRequiredService<IOptionsMonitor<DurableTaskRegistry>>().Get(Microsoft.Extensions.Options.Options.DefaultName);

        Assert.Equal(Declared("orchestrationTrigger"), registry.GetOrchestrators().Select(o => o.Key.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Declared("activityTrigger"), registry.GetActivities().Select(a => a.Key.Name).Order(StringComparer.Ordinal));
        Assert.NotEmpty(Declared("activityTrigger"));
    }

    [Fact]
    public async Task Gateway_Timers_AreExactlyTheMetadatas_AndRunByTheStandaloneHost()
    {
        await using var app = StandaloneHost.Build(typeof(GatewayApp).Assembly, ["--ServerlessServe:Jobs:PurgeSchedule=0 */10 * * * *"], GatewayApp.Configure, appDirectory: GatewayDirectory);

        var timers = app.Services.GetRequiredService<StandaloneFunctions>().WithTrigger("timerTrigger").Select(f => f.Name).Order(StringComparer.Ordinal);
        Assert.Equal(Declared("timerTrigger"), timers);
        Assert.Equal(["PurgeExpiredJobs"], Declared("timerTrigger"));
        Assert.Contains(app.Services.GetServices<IStandaloneTriggerSupport>(), s => s.TriggerTypes.Contains("timerTrigger"));
    }

    [Fact]
    public void Gateway_TriggerNothingRunsStandalone_RefusedAtStartNamingIt()
    {
        var metadata = JsonNode.Parse(File.ReadAllText(Path.Combine(GatewayDirectory, "functions.metadata")))!.AsArray();
        metadata.Add(JsonNode.Parse("""
            {"name":"Tick","scriptFile":"ServerlessServe.Gateway.dll","entryPoint":"ServerlessServe.Gateway.HealthFunctions.Live",
             "bindings":[{"name":"message","type":"queueTrigger","direction":"In","queueName":"ticks"}]}
            """));
        File.WriteAllText(Path.Combine(_directory, "functions.metadata"), metadata.ToJsonString());
        File.Copy(Path.Combine(GatewayDirectory, "host.json"), Path.Combine(_directory, "host.json"));

        var error = Assert.Throws<InvalidOperationException>(() =>
            StandaloneHost.Build(typeof(GatewayApp).Assembly, [], GatewayApp.Configure, appDirectory: _directory));

        Assert.Contains("'Tick'", error.Message, StringComparison.Ordinal);
        Assert.Contains("queueTrigger", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static List<string> Declared(string trigger)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(GatewayDirectory, "functions.metadata")));
        return document.RootElement.EnumerateArray()
            .Where(f => f.GetProperty("bindings").EnumerateArray().Any(b => b.GetProperty("type").GetString() == trigger))
            .Select(f => f.GetProperty("name").GetString()!)
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
