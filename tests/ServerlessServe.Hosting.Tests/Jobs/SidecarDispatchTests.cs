using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Jobs.Standalone;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// The in-memory backend as the sidecar's dispatchers see it: the limits of what Azure runs, not one work item per core
/// (at which eight jobs at once took 10 s each), and everything else the real in-memory service's own. Lock renewal,
/// which the in-memory service does not need, is tested on the Azure Storage backend (<see cref="SidecarLockRenewalTests"/>).
/// </summary>
public sealed class SidecarDispatchTests
{
    [Fact]
    public void Limits_WhatAzureRuns_NotOnePerCore()
    {
        var memory = new InMemoryOrchestrationService();
        var service = new SidecarDispatch(memory, TimeProvider.System, NullLogger<SidecarDispatch>.Instance);

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
        var service = new SidecarDispatch(memory, TimeProvider.System, NullLogger<SidecarDispatch>.Instance);
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
        Assert.Equal(0, service.Renewing); // the in-memory service's locks never expire
        await service.AbandonTaskOrchestrationWorkItemAsync(workItem);
        await service.ReleaseTaskOrchestrationWorkItemAsync(workItem);
        var again = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(30), timeout.Token);
        Assert.Equal(instance.InstanceId, again.InstanceId);
    }
}
