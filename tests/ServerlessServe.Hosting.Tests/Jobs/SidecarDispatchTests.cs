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

/// <summary>
/// Lock renewal when a renewal itself is cancelled (a storage client's own time-out): the loop goes on, and the step's
/// completion reaches the service. Before (review, 2026-12-07), that one renewal ended the loop, the lock lapsed under
/// the running step, and the completion threw the cancellation back: the finished result was thrown away.
/// </summary>
public sealed class SidecarRenewalFailureTests
{
    [Fact]
    public async Task ActivityLock_ARenewalCancelled_RenewalsGoOnAndTheCompletionGoesThrough()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var inner = System.Reflection.DispatchProxy.Create<IOrchestrationService, FakeService>();
        var fake = (FakeService)(object)inner;
        fake.Time = time;
        var service = new SidecarDispatch(inner, time, NullLogger<SidecarDispatch>.Instance);

        var workItem = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal(1, service.Renewing);

        await AdvanceUntilAsync(time, () => Volatile.Read(ref fake.Renewals) >= 2);
        await service.CompleteTaskActivityWorkItemAsync(workItem, new TaskMessage());

        Assert.Equal(1, fake.Completions);
        Assert.Equal(0, service.Renewing);
    }

    // Moves the fake clock a second at a time (the renewal loop waits on it) until the condition holds, at most 30 s of real time.
    private static async Task AdvanceUntilAsync(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the lock was not renewed again");
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }
    }

    /// <summary>One activity work item locked for 30 s; its first renewal is cancelled, later ones succeed.</summary>
    public class FakeService : System.Reflection.DispatchProxy
    {
        public int Renewals;
        public int Completions;

        public TimeProvider Time { get; set; } = TimeProvider.System;

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod!.Name)
            {
                case nameof(IOrchestrationService.LockNextTaskActivityWorkItem):
                    return Task.FromResult(new TaskActivityWorkItem { Id = "item-1", LockedUntilUtc = Time.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(30), TaskMessage = new TaskMessage() });
                case nameof(IOrchestrationService.RenewTaskActivityWorkItemLockAsync):
                    var workItem = (TaskActivityWorkItem)args![0]!;
                    if (Interlocked.Increment(ref Renewals) == 1)
                    {
                        return Task.FromException<TaskActivityWorkItem>(new TaskCanceledException("the storage client's own time-out"));
                    }

                    workItem.LockedUntilUtc = Time.GetUtcNow().UtcDateTime + TimeSpan.FromSeconds(30);
                    return Task.FromResult(workItem);
                case nameof(IOrchestrationService.CompleteTaskActivityWorkItemAsync):
                    Interlocked.Increment(ref Completions);
                    return Task.CompletedTask;
                default:
                    throw new NotSupportedException(targetMethod.Name);
            }
        }
    }
}

/// <summary>
/// A second copy of a task already running here (its orchestration step sent its messages again after failing to save
/// its history): given back rather than handed out. The sidecar keeps one slot per task, so the copy's work item waited
/// forever, its lock renewed until the process ended (review, 2026-12-07).
/// </summary>
public sealed class SidecarDuplicateActivityTests
{
    [Fact]
    public async Task ActivityLock_SecondCopyOfARunningTask_GivenBack_HandedOutOnceTheFirstIsDone()
    {
        var inner = System.Reflection.DispatchProxy.Create<IOrchestrationService, CopiesService>();
        var fake = (CopiesService)(object)inner;
        var service = new SidecarDispatch(inner, TimeProvider.System, NullLogger<SidecarDispatch>.Instance);

        var first = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        var copy = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.NotNull(first);
        Assert.Null(copy);
        Assert.Equal(["item-2"], fake.Abandoned);
        Assert.Equal(1, service.Renewing);

        await service.CompleteTaskActivityWorkItemAsync(first, new TaskMessage());
        var offeredAgain = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(1), CancellationToken.None);
        Assert.Equal("item-3", offeredAgain.Id);
        await service.AbandonTaskActivityWorkItemAsync(offeredAgain);
    }

    /// <summary>Work items of task 5 of one orchestration, each a new message (ids item-1, item-2, …), locked for 30 s.</summary>
    public class CopiesService : System.Reflection.DispatchProxy
    {
        private int _next;

        public List<string> Abandoned { get; } = [];

        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args)
        {
            switch (targetMethod!.Name)
            {
                case nameof(IOrchestrationService.LockNextTaskActivityWorkItem):
                    var instance = new OrchestrationInstance { InstanceId = "job-1", ExecutionId = "e" };
                    return Task.FromResult(new TaskActivityWorkItem
                    {
                        Id = "item-" + Interlocked.Increment(ref _next),
                        LockedUntilUtc = DateTime.UtcNow + TimeSpan.FromSeconds(30),
                        TaskMessage = new TaskMessage { OrchestrationInstance = instance, Event = new TaskScheduledEvent(5) { Name = "InferItems" } },
                    });
                case nameof(IOrchestrationService.AbandonTaskActivityWorkItemAsync):
                    lock (Abandoned)
                    {
                        Abandoned.Add(((TaskActivityWorkItem)args![0]!).Id);
                    }

                    return Task.CompletedTask;
                case nameof(IOrchestrationService.CompleteTaskActivityWorkItemAsync):
                case nameof(IOrchestrationService.RenewTaskActivityWorkItemLockAsync):
                    return targetMethod.ReturnType == typeof(Task) ? Task.CompletedTask : Task.FromResult((TaskActivityWorkItem)args![0]!);
                default:
                    throw new NotSupportedException(targetMethod.Name);
            }
        }
    }
}
