using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.DurableTask.Testing.Sidecar;
using ServerlessServe.Jobs.Standalone;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// The in-memory backend as the sidecar's dispatchers see it: the limits of what Azure runs, not one work item per core
/// (at which eight jobs at once took 10 s each), and everything else the real in-memory service's own.
/// </summary>
public sealed class InMemoryDispatchLimitsTests
{
    [Fact]
    public void Limits_WhatAzureRuns_NotOnePerCore()
    {
        var memory = new InMemoryOrchestrationService();
        var service = new InMemoryDispatchLimits(memory);

        Assert.Equal(100, service.MaxConcurrentTaskOrchestrationWorkItems);
        Assert.Equal(10 * Environment.ProcessorCount, service.MaxConcurrentTaskActivityWorkItems);
        Assert.Equal(
            (memory.TaskOrchestrationDispatcherCount, memory.TaskActivityDispatcherCount, memory.EventBehaviourForContinueAsNew),
            (service.TaskOrchestrationDispatcherCount, service.TaskActivityDispatcherCount, service.EventBehaviourForContinueAsNew));
    }

    [Fact]
    public async Task WorkItems_TheServicesOwn_StartedThereLockedHere()
    {
        var memory = new InMemoryOrchestrationService();
        var service = new InMemoryDispatchLimits(memory);
        var instance = new OrchestrationInstance { InstanceId = "job-" + Guid.NewGuid().ToString("N"), ExecutionId = Guid.NewGuid().ToString("N") };
        await memory.CreateTaskOrchestrationAsync(new TaskMessage
        {
            OrchestrationInstance = instance,
            Event = new ExecutionStartedEvent(-1, "{}") { Name = "JobOrchestrator", OrchestrationInstance = instance },
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var workItem = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(30), timeout.Token);

        Assert.Equal(instance.InstanceId, workItem.InstanceId);
        Assert.IsType<ExecutionStartedEvent>(Assert.Single(workItem.NewMessages).Event);
        await service.AbandonTaskOrchestrationWorkItemAsync(workItem);
        await service.ReleaseTaskOrchestrationWorkItemAsync(workItem);
        var again = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(30), timeout.Token);
        Assert.Equal(instance.InstanceId, again.InstanceId);
    }
}
