using System.Collections.Concurrent;

namespace ServerlessServe.Onnx;

/// <summary>
/// A thread of its own for one batch loop's ONNX Runtime runs: work posted to it runs there, one item at a time. It
/// starts with the first item and ends after <see cref="IdleTimeout"/> without work (a later item starts it again).
/// </summary>
/// <remarks>
/// ONNX Runtime's CUDA provider keeps its cuBLAS and cuDNN handles per calling thread and creates them on a thread's
/// first run. Batch loops that start on whichever thread-pool thread is free pay that on nearly every batch of a young
/// process (docs/performance.md, "The GPU check"); a loop's own thread pays it once.
/// </remarks>
internal sealed class RunThread
{
    private readonly BlockingCollection<(Action Work, TaskCompletionSource Done)> _work = new();
    private readonly Lock _gate = new();
    private readonly string _name;
    private Thread? _thread;

    public RunThread(string name)
    {
        _name = name;
    }

    /// <summary>How long the thread waits for work before it ends. Default 5 minutes.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The managed id of the thread running now, or null while none runs.</summary>
    public int? ThreadId
    {
        get
        {
            lock (_gate)
            {
                return _thread?.ManagedThreadId;
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> on the thread; the task completes (or faults) when it has.</summary>
    public Task RunAsync(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _work.Add((work, done));
            if (_thread is null)
            {
                _thread = new Thread(Loop) { IsBackground = true, Name = _name };
                _thread.Start();
            }
        }

        return done.Task;
    }

    private void Loop()
    {
        while (true)
        {
            if (!_work.TryTake(out var item, IdleTimeout))
            {
                lock (_gate)
                {
                    // An item added under the lock after the wait timed out is taken on the next pass.
                    if (_work.Count == 0)
                    {
                        _thread = null;
                        return;
                    }
                }

                continue;
            }

            try
            {
                item.Work();
                item.Done.SetResult();
            }
#pragma warning disable CA1031 // The failure belongs to whoever posted the work: it gets it through its task.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                item.Done.SetException(ex);
            }
        }
    }
}
