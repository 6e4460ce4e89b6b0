using System.Collections.Concurrent;
using DurableTask.Core;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Jobs.Standalone;

/// <summary>
/// The orchestration service (Azure Storage or in-memory) as the durable sidecar's dispatchers see it. Two things the
/// sidecar's own dispatchers do not do, which the Durable Functions extension does:
/// <list type="bullet">
/// <item><description>
/// <b>Limits of what Azure runs</b>: 100 orchestration steps at once (the Azure Storage provider's default) and 10
/// activities per core (the Functions host's default). The in-memory service allows one of each per core, the Azure
/// Storage provider 10 activities, and the sidecar's dispatcher, once at its limit, looks for a free place only every
/// 500 ms: on two cores eight one-item jobs at once took 10 s each in memory, against 18 ms for one alone
/// (docs/performance.md, "The in-memory backend's dispatch limit").
/// </description></item>
/// <item><description>
/// <b>Locks renewed while a work item runs.</b> A queue message the Azure Storage provider hands out stays hidden for
/// its visibility timeout (<see cref="JobOptions.VisibilityTimeout"/>), and the provider expects its caller to renew
/// it. The sidecar never does, so an activity that ran longer (a large chunk on a busy machine) showed again, its
/// completion could not delete it (the pop receipt had moved on) and the message then came back every timeout for as
/// long as the process lived, to run the activity again after a restart (docs/performance.md, "Locks renewed while a
/// step runs"). Each work item whose lock can expire is renewed at half its remaining time until it is completed,
/// abandoned or released; a renewal in flight is waited for before the work item is handed back, so the two never
/// race for the message's pop receipt.
/// </description></item>
/// </list>
/// Everything else goes to the service unchanged; the sidecar's client side uses the service itself.
/// </summary>
internal sealed class SidecarDispatch(IOrchestrationService inner, TimeProvider time, ILogger<SidecarDispatch> logger) : IOrchestrationService
{
    /// <summary>A lock further off than this never expires in practice (the in-memory service's is <see cref="DateTime.MaxValue"/>).</summary>
    private static readonly TimeSpan NoExpiry = TimeSpan.FromDays(1);

    /// <summary>The soonest a renewal is tried again, however close the lock's expiry.</summary>
    private static readonly TimeSpan ShortestWait = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<object, Renewal> _held = new(ReferenceEqualityComparer.Instance);

    // The activity work items held, by orchestration instance and task id (see LockNextTaskActivityWorkItem).
    private readonly ConcurrentDictionary<(string Instance, int Task), TaskActivityWorkItem> _running = new();

    /// <summary>Orchestration steps at once: the Azure Storage provider's default (its settings' 100).</summary>
    public int MaxConcurrentTaskOrchestrationWorkItems => 100;

    /// <summary>
    /// Activities at once: the Functions host's default, 10 per core (the Azure Storage provider's own 10 was reached
    /// by the edge fuzzer's 16 jobs at once, and every place freed then waited for the dispatcher's next look).
    /// </summary>
    public int MaxConcurrentTaskActivityWorkItems { get; } = 10 * Environment.ProcessorCount;

    /// <summary>Work items whose locks are being renewed now (for tests).</summary>
    internal int Renewing => _held.Count;

    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public Task StartAsync() => inner.StartAsync();

    public async Task StopAsync()
    {
        await StopRenewingAllAsync().ConfigureAwait(false);
        await inner.StopAsync().ConfigureAwait(false);
    }

    public async Task StopAsync(bool isForced)
    {
        await StopRenewingAllAsync().ConfigureAwait(false);
        await inner.StopAsync(isForced).ConfigureAwait(false);
    }

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) =>
        inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var workItem = await inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken).ConfigureAwait(false);
        if (workItem is not null)
        {
            StartRenewing(workItem, "orchestration", () => workItem.LockedUntilUtc, () => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem));
        }

        return workItem!;
    }

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public async Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState)
    {
        await StopRenewingAsync(workItem).ConfigureAwait(false);
        await inner.CompleteTaskOrchestrationWorkItemAsync(
            workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState).ConfigureAwait(false);
    }

    public async Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        await StopRenewingAsync(workItem).ConfigureAwait(false);
        await inner.AbandonTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
    }

    public async Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        await StopRenewingAsync(workItem).ConfigureAwait(false);
        await inner.ReleaseTaskOrchestrationWorkItemAsync(workItem).ConfigureAwait(false);
    }

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var workItem = await inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken).ConfigureAwait(false);
        if (workItem is null)
        {
            return null!;
        }

        // One copy of a task at a time. An orchestration step that sent its activity messages and then failed to save its
        // history sends them again when it is run again; the sidecar keeps one slot per task (instance and task id), so a
        // second copy taken while the first runs got no slot: one answer was dropped, and the other work item waited
        // forever, its lock renewed until the process ended (review, 2026-12-07). The copy is given back; the provider
        // offers it again later, and run after the first, its answer is the orchestrator's to ignore.
        if (ActivityKey(workItem) is { } key && !_running.TryAdd(key, workItem))
        {
            Log.DuplicateActivity(logger, key.Instance, key.Task);
            await inner.AbandonTaskActivityWorkItemAsync(workItem).ConfigureAwait(false);
            return null!;
        }

        StartRenewing(workItem, "activity", () => workItem.LockedUntilUtc, () => inner.RenewTaskActivityWorkItemLockAsync(workItem));
        return workItem;
    }

    // The orchestration's instance id (its execution id too: a task id is its execution's own) and the task id.
    private static (string Instance, int Task)? ActivityKey(TaskActivityWorkItem workItem) =>
        workItem.TaskMessage is { OrchestrationInstance: { InstanceId: { } instance } execution, Event: { } scheduled }
            ? (instance + "/" + execution.ExecutionId, scheduled.EventId)
            : null;

    private void StopRunning(TaskActivityWorkItem workItem)
    {
        if (ActivityKey(workItem) is { } key)
        {
            _running.TryRemove(KeyValuePair.Create(key, workItem));
        }
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        await StopRenewingAsync(workItem).ConfigureAwait(false);
        try
        {
            await inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage).ConfigureAwait(false);
        }
        finally
        {
            StopRunning(workItem);
        }
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        await StopRenewingAsync(workItem).ConfigureAwait(false);
        try
        {
            await inner.AbandonTaskActivityWorkItemAsync(workItem).ConfigureAwait(false);
        }
        finally
        {
            StopRunning(workItem);
        }
    }

    private void StartRenewing(object workItem, string kind, Func<DateTime> lockedUntil, Func<Task> renew)
    {
        var until = lockedUntil();
        if (until == default || until - time.GetUtcNow().UtcDateTime > NoExpiry)
        {
            return;
        }

        // Added before the work item is handed out, so nothing can stop it sooner.
        var renewal = new Renewal();
        renewal.Loop = Task.Run(() => RenewUntilStoppedAsync(kind, lockedUntil, renew, renewal.Stop.Token), CancellationToken.None);
        _held[workItem] = renewal;
    }

    private async Task RenewUntilStoppedAsync(string kind, Func<DateTime> lockedUntil, Func<Task> renew, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                var remaining = lockedUntil() - time.GetUtcNow().UtcDateTime;
                var wait = remaining / 2;
                await Task.Delay(wait < ShortestWait ? ShortestWait : wait, time, stop).ConfigureAwait(false);
                try
                {
                    await renew().ConfigureAwait(false);
                }
                catch (Exception exception) when (!stop.IsCancellationRequested)
                {
                    // Any failure of a renewal, a cancellation included (a storage client's own timeout): before
                    // 2026-12-07 one ended the loop, the lock then lapsed under a running step, and the step's
                    // completion threw it back, so a finished result was thrown away and the step ran again (review).
                    // The lock may still hold until it expires: try again at half of what is left (at the shortest
                    // wait once it has gone; the provider then answers that the message moved on, and the work item's
                    // completion is refused the same way).
                    Log.LockRenewalFailed(logger, kind, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Completed, abandoned or released.
        }
    }

    private async Task StopRenewingAsync(object workItem)
    {
        if (_held.TryRemove(workItem, out var renewal))
        {
            await renewal.StopAsync().ConfigureAwait(false);
        }
    }

    private async Task StopRenewingAllAsync()
    {
        foreach (var workItem in _held.Keys)
        {
            await StopRenewingAsync(workItem).ConfigureAwait(false);
        }
    }

    private sealed class Renewal
    {
        public CancellationTokenSource Stop { get; } = new();

        public Task Loop { get; set; } = Task.CompletedTask;

        /// <summary>Stops the loop and waits for a renewal it has in flight.</summary>
        public async Task StopAsync()
        {
            try
            {
                await Stop.CancelAsync().ConfigureAwait(false);
                await Loop.ConfigureAwait(false);
            }
            finally
            {
                Stop.Dispose();
            }
        }
    }
}
