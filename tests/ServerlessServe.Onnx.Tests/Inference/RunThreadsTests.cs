using System.Collections.Concurrent;

namespace ServerlessServe.Onnx.Tests.Inference;

/// <summary>The app's own run threads: at most their maximum at once, started on demand, ended when idle.</summary>
public sealed class RunThreadsTests
{
    [Fact]
    public async Task OneThread_RunsWorkOnOneThread_EndsWhenIdle_StartsAgain()
    {
        var thread = new RunThreads("test run thread", 1) { IdleTimeout = TimeSpan.FromMilliseconds(50) };
        var first = 0;
        await thread.RunAsync(() => first = Environment.CurrentManagedThreadId);
        var second = 0;
        await thread.RunAsync(() => second = Environment.CurrentManagedThreadId);
        Assert.Equal(first, second);
        Assert.NotEqual(Environment.CurrentManagedThreadId, first);
        Assert.Equal(1, thread.Started);

        await WaitUntilAsync(() => thread.Running == 0);

        Assert.Equal(0, thread.Running);
        await thread.RunAsync(() => { });
        Assert.Equal(2, thread.Started);
        await Assert.ThrowsAsync<InvalidOperationException>(() => thread.RunAsync(() => throw new InvalidOperationException("the work's own failure")));
    }

    [Fact]
    public async Task TwoThreads_AtMostTwoBusyAtOnce_EndWhenIdle_StartAgain()
    {
        var threads = new RunThreads("test run", 2) { IdleTimeout = TimeSpan.FromMilliseconds(50) };
        using var gate = new ManualResetEventSlim();
        var done = new ConcurrentQueue<int>();
        var ids = new ConcurrentDictionary<int, byte>();
        var work = Enumerable.Range(0, 10).Select(i => threads.RunAsync(() =>
        {
            ids[Environment.CurrentManagedThreadId] = 0;
            gate.Wait();
            done.Enqueue(i);
        })).ToArray();

        // Both threads take an item and block on the gate; ten items never start a third.
        await WaitUntilAsync(() => ids.Count >= 2);

        Assert.Equal(2, threads.Running);
        Assert.Equal(2, threads.Started);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, ids.Keys);
        gate.Set();
        await Task.WhenAll(work);
        Assert.Equal(2, threads.Started);
        Assert.Equal(10, done.Count);

        await WaitUntilAsync(() => threads.Running == 0);

        Assert.Equal(0, threads.Running);
        await threads.RunAsync(() => { });
        Assert.Equal(3, threads.Started);
    }

    [Fact]
    public async Task CancelledWhileQueued_NeverRuns_CancelledAtOnce_LaterWorkStillRuns()
    {
        var threads = new RunThreads("test run", 1);
        using var gate = new ManualResetEventSlim();
        var busy = threads.RunAsync(gate.Wait);
        using var cancel = new CancellationTokenSource();
        var ran = false;
        var queued = threads.RunAsync(() => ran = true, cancel.Token);
        var after = threads.RunAsync(() => { });

        await cancel.CancelAsync();

        // Bounded so that a queue that ignores the cancellation fails here instead of waiting for the gate forever.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.False(busy.IsCompleted);
        gate.Set();
        await busy;
        await after;
        Assert.False(ran);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => threads.RunAsync(() => ran = true, cancel.Token));
        Assert.False(ran);
    }

    // A liveness wait, not a timing one: the condition is asserted by the caller afterwards.
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }
}
