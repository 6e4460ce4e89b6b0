using System.Collections.Concurrent;

namespace ServerlessServe.Onnx;

/// <summary>
/// At most <c>max</c> threads of their own that take ONNX Runtime runs from one queue, in the order posted. A thread
/// starts when work is posted and every running thread is busy, and ends after <see cref="IdleTimeout"/> without work
/// (later work starts another). With one thread, as each batch loop has, runs happen one at a time in order.
/// </summary>
/// <remarks>
/// ONNX Runtime's CUDA provider keeps its cuBLAS and cuDNN handles, and their GPU workspaces, per calling thread, and
/// creates them on a thread's first run (tens to hundreds of milliseconds). Requests arrive on whichever thread-pool
/// thread is free, and the pool adds threads under load and retires them after 20 s idle, so a replica running each
/// request on its own thread pays that setup again and again, and holds a set of handles per thread the pool ever used.
/// A few threads of its own pay it once each, and bound the handles (docs/performance.md, "CUDA runs on threads of
/// their own"). A batch loop has one such thread per slot, so its batches and its warm-up run on the same thread.
/// </remarks>
internal sealed class RunThreads
{
    private readonly BlockingCollection<Item> _work = new();
    private readonly Lock _gate = new();
    private readonly string _name;
    private readonly int _max;
    private int _running;
    private int _waiting;
    private int _started;

    public RunThreads(string name, int max)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        _name = name;
        _max = max;
    }

    /// <summary>How long a thread waits for work before it ends. Default 5 minutes.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The most threads that run at once.</summary>
    public int Max => _max;

    /// <summary>Threads running now.</summary>
    public int Running
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>Threads started since this was made (tests: how often the setup a thread pays was paid).</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>
    /// Runs <paramref name="work"/> on one of the threads; the task completes (or faults) when it has. Cancelled while it
    /// waits in the queue, it never starts and the task is cancelled at once; once started, it runs to its end (the work
    /// watches the token itself).
    /// </summary>
    public Task RunAsync(Action work, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        cancellationToken.ThrowIfCancellationRequested();
        var item = new Item(work);
        if (cancellationToken.CanBeCanceled)
        {
            item.Registration = cancellationToken.Register(static state => ((Item)state!).CancelIfQueued(), item);
        }

        lock (_gate)
        {
            _work.Add(item, CancellationToken.None);

            // More work waiting than threads waiting for it: one more thread, up to the most.
            if (_work.Count > _waiting && _running < _max)
            {
                _running++;
                var number = Interlocked.Increment(ref _started);
                new Thread(Loop) { IsBackground = true, Name = _max == 1 ? _name : $"{_name} {number}" }.Start();
            }
        }

        return item.Done.Task;
    }

    private void Loop()
    {
        while (true)
        {
            lock (_gate)
            {
                _waiting++;
            }

            var taken = _work.TryTake(out var item, IdleTimeout);
            lock (_gate)
            {
                _waiting--;
                if (!taken)
                {
                    // Work posted under the lock after the wait timed out is taken on the next pass.
                    if (_work.Count == 0)
                    {
                        _running--;
                        return;
                    }

                    continue;
                }
            }

            if (item!.TryStart())
            {
                item.Run();
            }
            else
            {
                item.Registration.Dispose();
            }
        }
    }

    /// <summary>One piece of work: queued, then either started (and run to its end) or cancelled, never both.</summary>
    private sealed class Item(Action work)
    {
        private const int Queued = 0, Started = 1, Cancelled = 2;
        private int _state;

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }

        public bool TryStart() => Interlocked.CompareExchange(ref _state, Started, Queued) == Queued;

        public void CancelIfQueued()
        {
            if (Interlocked.CompareExchange(ref _state, Cancelled, Queued) == Queued)
            {
                Done.TrySetCanceled();
            }
        }

        public void Run()
        {
            Registration.Dispose();
            try
            {
                work();
                Done.SetResult();
            }
#pragma warning disable CA1031 // The failure belongs to whoever posted the work: it gets it through its task.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Done.SetException(ex);
            }
        }
    }
}
