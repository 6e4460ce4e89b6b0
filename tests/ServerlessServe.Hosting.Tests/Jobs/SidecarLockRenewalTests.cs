using Azure.Storage.Queues;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Jobs;
using ServerlessServe.Jobs.Standalone;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// The standalone host's durable backend on real Azurite, with a worker over the sidecar's socket: a step that runs
/// longer than the queue's visibility timeout keeps its message hidden while it runs, so it runs once, and its message
/// is deleted when it completes. The sidecar's dispatchers never renew a lock themselves; the Azure Storage provider
/// expects its caller to. Without the renewal the activity's message showed again while it ran, its completion could
/// not delete it (the pop receipt had moved on), and it came back every timeout for as long as the process lived.
/// </summary>
public sealed class SidecarLockRenewalTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly TimeSpan Visibility = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Activity_LongerThanTheVisibilityTimeout_RunsOnceAndItsMessageIsDeleted()
    {
        var runs = 0;
        var hub = await RunAsync(tasks =>
        {
            tasks.AddActivityFunc<int, int>("Slow", async (_, input) =>
            {
                Interlocked.Increment(ref runs);
                await Task.Delay(Visibility * 3);
                return input + 1;
            });
            tasks.AddOrchestratorFunc<int, int>("Steps", (context, input) => context.CallActivityAsync<int>("Slow", input));
        });

        Assert.Equal(0, await MessagesAsync(hub));
        Assert.Equal(1, Volatile.Read(ref runs));
    }

    [Fact]
    public async Task OrchestrationStep_LongerThanTheVisibilityTimeout_RunsOnceAndItsMessagesAreDeleted()
    {
        var firstRuns = 0;
        var hub = await RunAsync(tasks =>
        {
            tasks.AddActivityFunc<int, int>("Quick", (_, input) => input + 1);
            tasks.AddOrchestratorFunc<int, int>("Steps", async (context, input) =>
            {
                if (!context.IsReplaying)
                {
                    // An orchestration step must not wait on anything but the context; a slow replay of a long history
                    // on a busy worker looks like this to the backend.
                    Interlocked.Increment(ref firstRuns);
#pragma warning disable DURABLE0003 // On purpose: the step must hold its work item past the visibility timeout.
                    Thread.Sleep(Visibility * 3);
#pragma warning restore DURABLE0003
                }

                return await context.CallActivityAsync<int>("Quick", input);
            });
        });

        Assert.Equal(0, await MessagesAsync(hub));
        Assert.Equal(1, Volatile.Read(ref firstRuns));
    }

    /// <summary>Runs <c>Steps</c> with 41 to its end on a fresh task hub, expecting 42; returns the hub's name.</summary>
    private async Task<string> RunAsync(Action<DurableTaskRegistry> register)
    {
        var options = new JobOptions { TaskHub = "renew" + Guid.NewGuid().ToString("N")[..12], VisibilityTimeout = Visibility };
        await using var sidecar = new DurableSidecar(azurite.ConnectionString, options, NullLoggerFactory.Instance, TimeProvider.System);
        await sidecar.StartAsync(CancellationToken.None);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddDurableTaskWorker(worker =>
        {
            worker.UseGrpc(sidecar.Channel);
            worker.AddTasks(register);
        });
        builder.Services.AddDurableTaskClient(client => client.UseGrpc(sidecar.Channel));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<DurableTaskClient>();
            var id = await client.ScheduleNewOrchestrationInstanceAsync("Steps", 41);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var ended = await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);

            Assert.Equal(OrchestrationRuntimeStatus.Completed, ended.RuntimeStatus);
            Assert.Equal(42, ended.ReadOutputAs<int>());

            // Had a message shown again while its step ran, it would be in its queue now and would run again when it
            // next shows: wait past that, with the process still running.
            await Task.Delay(Visibility * 3);
        }
        finally
        {
            await host.StopAsync();
            await sidecar.StopAsync(CancellationToken.None);
        }

        return options.TaskHub;
    }

    /// <summary>Messages left in the task hub's work-item and control queues, hidden ones included.</summary>
    private async Task<int> MessagesAsync(string hub)
    {
        var total = 0;
        foreach (var queue in new[] { "workitems", "control-00", "control-01", "control-02", "control-03" })
        {
            var properties = await new QueueClient(azurite.ConnectionString, $"{hub}-{queue}").GetPropertiesAsync();
            total += properties.Value.ApproximateMessagesCount;
        }

        return total;
    }
}
