using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Onnx;

/// <summary>
/// The requests waiting for one loaded model version, and the loops that run them (at most
/// <see cref="DynamicBatcher.ConcurrentBatches"/> at once). A loop exists only while there is work: a request that finds
/// fewer loops running than allowed starts one, and a loop ends when the queue is empty. Each pass takes the oldest
/// request and every later one that fits it (<see cref="BatchItem.Fits"/>) while the rows stay within the policy's
/// maximum, runs them as one, and splits the outputs back. A batch formed behind a run (its requests queued while the
/// model was busy) waits until the policy's delay has passed since its oldest request, unless it is full; the first
/// batch after an idle spell runs at once.
/// </summary>
internal sealed class BatchQueue
{
    private readonly DynamicBatcher _batcher;
    private readonly LoadedModel _model;
    private readonly Lock _gate = new();
    private readonly List<BatchItem> _pending = [];
    private readonly Task _warmed;
    private TaskCompletionSource? _arrival;
    private int _running;

    // Per loop slot (ConcurrentBatches of them): the thread its runs happen on, or null where runs stay on the loop's
    // thread-pool thread (the CPU, where a thread costs ONNX Runtime nothing to start using).
    private readonly RunThreads[]? _threads;
    private readonly bool[] _slotBusy;

    public BatchQueue(DynamicBatcher batcher, LoadedModel model, BatchingPolicy policy)
    {
        _batcher = batcher;
        _model = model;
        Policy = policy;
        Batchable = IsBatchable(model.Session);
        if (!Batchable)
        {
            // The policy asks for batching, which publishing checked only on the leading dimensions: said once per
            // loaded version, as each request then runs alone.
            TryLog(() => Log.NotBatchable(batcher.Logger, model.Name, model.ModelVersion));
        }
        Padding = batcher.Padding != BatchPadding.Auto ? batcher.Padding
            : model.ExecutionProvider == ExecutionProvider.Cuda ? BatchPadding.PowersOfTwo : BatchPadding.None;
        _slotBusy = new bool[Math.Max(1, batcher.ConcurrentBatches)];
        if (batcher.DedicatedThreads ?? model.ExecutionProvider == ExecutionProvider.Cuda)
        {
            _threads = new RunThreads[_slotBusy.Length];
            for (var i = 0; i < _threads.Length; i++)
            {
                _threads[i] = new RunThreads($"ServerlessServe batch {model.Name} {i}", 1);
            }
        }

        _warmed = WarmAsync();
    }

    /// <summary>The sizes runs are padded to (<see cref="InferenceOptions.BatchPadding"/>, resolved for the model).</summary>
    public BatchPadding Padding { get; }

    /// <summary>The batching policy of the model's version.</summary>
    public BatchingPolicy Policy { get; }

    /// <summary>
    /// Whether the model can run requests together at all: every input and output is a tensor whose first dimension the
    /// model leaves free (ONNX Runtime reports a symbolic or unknown dimension as -1).
    /// </summary>
    public bool Batchable { get; }

    /// <summary>Queues <paramref name="item"/>; its task completes when its run does.</summary>
    public Task<IReadOnlyList<Tensor>> Enqueue(BatchItem item)
    {
        // Registered first: a token cancelled meanwhile marks the item cancelled before it is ever queued.
        item.Registration = item.CancellationToken.Register(static state => ((BatchItem)state!).Cancel(), item);
        var slot = -1;
        lock (_gate)
        {
            if (item.State == BatchItemState.Cancelled)
            {
                item.ReleaseInputs();
                return item.Completion.Task;
            }

            _pending.Add(item);
            if (_running < _batcher.ConcurrentBatches && !_batcher.IsPaused)
            {
                _running++;
                slot = TakeSlot();
            }

            _arrival?.TrySetResult();
        }

        if (slot >= 0)
        {
            _ = Task.Run(() => DrainAsync(slot));
        }

        return item.Completion.Task;
    }

    /// <summary>Starts the loop if requests are waiting and none runs (after the batcher was paused).</summary>
    public void Kick()
    {
        int slot;
        lock (_gate)
        {
            // One loop: what was queued while paused is taken as one batch, as it would be behind a run.
            if (_running > 0 || _pending.Count == 0 || _batcher.IsPaused)
            {
                return;
            }

            _running = 1;
            slot = TakeSlot();
        }

        _ = Task.Run(() => DrainAsync(slot));
    }

    /// <summary>Drops a cancelled item from the queue when it has not been taken; a taken one's result is dropped instead.</summary>
    public void Cancel(BatchItem item)
    {
        var dropped = false;
        lock (_gate)
        {
            if (item.State == BatchItemState.Queued)
            {
                item.State = BatchItemState.Cancelled;
                dropped = _pending.Remove(item);
            }
        }

        if (dropped)
        {
            // Never taken: nothing reads its inputs any more.
            item.ReleaseInputs();
        }

        item.Completion.TrySetCanceled(item.CancellationToken);
        item.Run?.MemberCancelled();
    }

    // Rows of different requests are stacked along the first dimension and split back by the outputs' first dimension:
    // only when every input and output leads with one and the same named dimension, the graph's own statement that row
    // i of each output comes from row i of the inputs. A free but unnamed or differently named leading dimension (NonZero's
    // count, a list of detections) that happened to equal the batch's rows handed one caller rows computed from another's
    // input (found in review 2026-12-07); such a model runs each request on its own. An output's other dimensions must be
    // fixed, or named as one of the inputs' other dimensions (which requests run together share, Fits): one the model
    // sizes from the data (a decoder's rows padded to the batch's longest) gave each caller a shape set by another's
    // input (review 2026-12-08).
    internal static bool IsBatchable(InferenceSession session) =>
        IsBatchable(
            session.InputMetadata.Values.Select(static m => (m.IsTensor, m.Dimensions, m.SymbolicDimensions)).ToList(),
            session.OutputMetadata.Values.Select(static m => (m.IsTensor, m.Dimensions, m.SymbolicDimensions)).ToList());

    internal static bool IsBatchable(
        IReadOnlyList<(bool IsTensor, int[] Dimensions, string[] Symbols)> inputs, IReadOnlyList<(bool IsTensor, int[] Dimensions, string[] Symbols)> outputs)
    {
        string? batch = null;
        foreach (var (isTensor, dimensions, symbols) in inputs.Concat(outputs))
        {
            if (!isTensor || dimensions.Length == 0 || dimensions[0] >= 0
                || symbols.Length == 0 || symbols[0] is not { Length: > 0 } name)
            {
                return false;
            }

            batch ??= name;
            if (!string.Equals(name, batch, StringComparison.Ordinal))
            {
                return false;
            }
        }

        var shared = inputs.SelectMany(static i => i.Symbols.Skip(1).Where((s, d) => i.Dimensions[d + 1] < 0 && s is { Length: > 0 }))
            .ToHashSet(StringComparer.Ordinal);
        foreach (var (_, dimensions, symbols) in outputs)
        {
            for (var d = 1; d < dimensions.Length; d++)
            {
                if (dimensions[d] < 0 && (d >= symbols.Length || symbols[d] is not { Length: > 0 } symbol || !shared.Contains(symbol)))
                {
                    return false;
                }
            }
        }

        return batch is not null;
    }

    // Under the lock: a free loop slot (one exists whenever fewer loops run than ConcurrentBatches).
    private int TakeSlot()
    {
        var slot = Array.IndexOf(_slotBusy, false);
        _slotBusy[slot] = true;
        return slot;
    }

    private async Task DrainAsync(int slot)
    {
        // Never faults: a warm-up that failed is logged and batches run as they come.
        await _warmed.ConfigureAwait(false);
        var behindRun = false;
        while (true)
        {
            BatchItem[]? batch;
            BatchItem head;
            TimeSpan wait;
            Task? arrival;
            lock (_gate)
            {
                if (_pending.Count == 0 || _batcher.IsPaused)
                {
                    _running--;
                    _slotBusy[slot] = false;
                    return;
                }

                head = _pending[0];
                batch = TryTake(behindRun, out wait);
                arrival = _arrival?.Task;
            }

            if (batch is null)
            {
                // Until the delay has passed or another request arrives, whichever is first. The clock is read again
                // once the timer exists, so time that passed meanwhile is not waited twice.
                using var stop = new CancellationTokenSource();
                var delay = Task.Delay(wait, _batcher.Time, stop.Token);
                if (_batcher.Time.GetElapsedTime(head.QueuedAt) < Policy.MaxQueueDelay)
                {
                    await Task.WhenAny(arrival!, delay).ConfigureAwait(false);
                }

                await stop.CancelAsync().ConfigureAwait(false);
                continue;
            }

            try
            {
                if (_threads is null)
                {
                    Run(batch);
                }
                else
                {
                    // Never faults: Run gives every member its own outcome.
                    var members = batch;
                    await _threads[slot].RunAsync(() => Run(members)).ConfigureAwait(false);
                }
            }
#pragma warning disable CA1031 // Run is meant never to throw; if it does, the loop goes on (it stalled the version's queue for good).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                foreach (var member in batch)
                {
                    member.Fail(ex);
                }
            }
            finally
            {
                // The run, and any rerun of a member alone, is over: nothing reads the members' inputs any more.
                foreach (var member in batch)
                {
                    member.ReleaseInputs();
                }
            }

            behindRun = true;
        }
    }

    // Under the lock. Null (with the time left) when the batch should wait for more requests.
    private BatchItem[]? TryTake(bool behindRun, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        var head = _pending[0];
        var members = new List<BatchItem> { head };
        var rows = head.Rows;
        var bytes = head.Bytes;
        var full = false;
        for (var i = 1; i < _pending.Count && rows < Policy.MaxBatchSize; i++)
        {
            var candidate = _pending[i];
            if (rows + candidate.Rows <= Policy.MaxBatchSize && candidate.Fits(head))
            {
                // The run's bytes bounded too (InferenceOptions.MaxBatchBytes): a policy's maxBatchSize of large rows
                // stacked up to a GiB and more, a copy of every member's inputs at once (review 2026-12-08).
                if (bytes + candidate.Bytes > _batcher.MaxBatchBytes)
                {
                    full = true;
                    break;
                }

                members.Add(candidate);
                rows += candidate.Rows;
                bytes += candidate.Bytes;
            }
        }

        if (behindRun && !full && rows < Policy.MaxBatchSize && Policy.MaxQueueDelay > TimeSpan.Zero)
        {
            var waited = _batcher.Time.GetElapsedTime(head.QueuedAt);
            if (waited < Policy.MaxQueueDelay)
            {
                wait = Policy.MaxQueueDelay - waited;
                _arrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return null;
            }
        }

        _arrival = null;
        foreach (var member in members)
        {
            member.State = BatchItemState.Taken;
        }

        _pending.RemoveAll(m => m.State == BatchItemState.Taken);
        return [.. members];
    }

    // Never throws: every item ends with its outputs, its own refusal or its cancellation.
    private void Run(BatchItem[] batch)
    {
        var live = batch.Where(m => !m.IsDone).ToArray();
        if (live.Length == 0)
        {
            return;
        }

        // One request alone runs as it came, unless its rows are not a size runs are padded to.
        if (live.Length == 1 && RunRows(live[0].Rows) == live[0].Rows)
        {
            RunAlone(live[0]);
            return;
        }

        using var cancellation = new CancellationTokenSource();
        var shared = new SharedRun(live, cancellation);
        foreach (var member in live)
        {
            member.Run = shared;
        }

        IReadOnlyList<Tensor>[]? outputs;
        try
        {
            if (live.All(m => m.IsDone))
            {
                return;
            }

            outputs = RunTogether(live, cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Every member was cancelled; each task is cancelled already.
            return;
        }
        catch (Exception ex) when (MaySucceedSmaller(ex))
        {
            TryLog(() => Log.BatchRerun(_batcher.Logger, _model.Name, _model.ModelVersion, live.Length));
            RunHalves(live);
            return;
        }
#pragma warning disable CA1031 // A failure no member's data caused: each member gets it, with no run again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // The model unloaded, a failure of the model's own or of the device: the same for every member and for
            // any part of them, so the batch is not split and run again (review 2026-12-08: a batch of 32 made 47
            // failing runs, one after another, with every other request of the version waiting behind them).
            foreach (var member in live)
            {
                member.Fail(ex);
            }

            return;
        }

        if (outputs is null)
        {
            TryLog(() => Log.BatchRowsMismatch(_batcher.Logger, _model.Name, _model.ModelVersion, live.Length));
            RunEachAlone(live);
            return;
        }

        for (var i = 0; i < live.Length; i++)
        {
            live[i].Succeed(outputs[i]);
        }
    }

    // One run on the members' inputs stacked along the first dimension; null when an output's first dimension is not the
    // batch's rows (the outputs cannot be split back by rows).
    private IReadOnlyList<Tensor>[]? RunTogether(BatchItem[] members, CancellationToken cancellationToken)
    {
        // Unloaded while the members waited: nothing stacked or counted as a run for a session that is gone.
        if (_model.IsEvicted)
        {
            throw new RefusedException(OnnxModelRunner.Unloaded);
        }

        var head = members[0];
        var started = _batcher.Time.GetTimestamp();
        var rows = members.Sum(m => m.Rows);
        var runRows = RunRows(rows);
        var names = new string[head.Inputs.Length];
        var values = new List<OrtValue>(names.Length);
        var buffers = new List<IDisposable>(names.Length);
        try
        {
            var parts = new Tensor[members.Length];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = head.Inputs[i].Name;
                for (var m = 0; m < members.Length; m++)
                {
                    parts[m] = members[m].Inputs[i];
                }

                var shape = (long[])head.Inputs[i].Shape.Clone();
                shape[0] = runRows;
                values.Add(OrtTensors.StackPooled(parts, shape, out var buffer));
                if (buffer is not null)
                {
                    buffers.Add(buffer);
                }
            }

            _batcher.Observe(_model, members.Length, rows, runRows - rows);
            var stacked = _batcher.Time.GetTimestamp();
            using var results = _batcher.Runner.Run(_model, names, values, head.Outputs, cancellationToken);
            var ran = _batcher.Time.GetTimestamp();
            foreach (var result in results)
            {
                var shape = result.GetTensorTypeAndShape().Shape;
                if (shape.Length == 0 || shape[0] != runRows)
                {
                    return null;
                }
            }

            var outputs = new IReadOnlyList<Tensor>[members.Length];
            var firstRow = 0L;
            for (var m = 0; m < members.Length; m++)
            {
                var tensors = new Tensor[head.Outputs.Length];
                var o = 0;
                foreach (var result in results)
                {
                    tensors[o] = OrtTensors.FromOrtValueRows(head.Outputs[o], result, firstRow, members[m].Rows);
                    o++;
                }

                outputs[m] = tensors;
                firstRow += members[m].Rows;
            }

            if (_batcher.Logger.IsEnabled(LogLevel.Debug))
            {
                var time = _batcher.Time;
                Log.BatchRan(
                    _batcher.Logger, _model.Name, members.Length, rows, runRows, time.GetElapsedTime(head.QueuedAt, started).TotalMilliseconds,
                    time.GetElapsedTime(started, stacked).TotalMilliseconds, time.GetElapsedTime(stacked, ran).TotalMilliseconds, time.GetElapsedTime(ran).TotalMilliseconds);
            }

            return outputs;
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }

            foreach (var buffer in buffers)
            {
                buffer.Dispose();
            }
        }
    }

    /// <summary>
    /// Runs the model once on zeros at every size batches are padded to, before the first batch runs. On CUDA each new
    /// input shape costs a search for convolution algorithms (ResNet18 on an H200: 729 ms for the six sizes up to 32),
    /// paid here once, at the first batched request, rather than by the first callers of each size. Skipped when an
    /// input is a string tensor or has another free dimension (no shape to warm). A failure is logged, nothing more.
    /// </summary>
    private async Task WarmAsync()
    {
        if (Padding == BatchPadding.None || !Batchable)
        {
            return;
        }

        if (_threads is null)
        {
            await Task.Run(() => WarmUp(all: true)).ConfigureAwait(false);
            return;
        }

        // Every size on the first loop's thread; each other loop's thread runs once, so that none pays its first run
        // with a batch waiting on it.
        for (var i = 0; i < _threads.Length; i++)
        {
            var all = i == 0;
            await _threads[i].RunAsync(() => WarmUp(all)).ConfigureAwait(false);
        }
    }

    private void WarmUp(bool all)
    {
        var session = _model.Session;
        if (session.InputMetadata.Values.Any(m => m.ElementDataType == TensorElementType.String || m.Dimensions.Skip(1).Any(d => d < 1)))
        {
            return;
        }

        // Only the sizes a batch can reach within the bytes a run may stack (MaxBatchBytes), before padding.
        var rowBytes = session.InputMetadata.Values.Sum(m => m.Dimensions.Skip(1).Aggregate(1L, (n, d) => n * d) * ElementBytes(m.ElementDataType));
        var sizes = new SortedSet<long>();
        for (var rows = 1L; rows <= (all ? Policy.MaxBatchSize : 1) && (rows == 1 || rows * rowBytes <= _batcher.MaxBatchBytes); rows++)
        {
            sizes.Add(RunRows(rows));
        }

        var started = _batcher.Time.GetTimestamp();
        var names = session.InputMetadata.Keys.ToArray();
        var outputs = session.OutputMetadata.Keys.ToArray();
        try
        {
            foreach (var rows in sizes)
            {
                var values = new List<OrtValue>(names.Length);
                try
                {
                    foreach (var metadata in session.InputMetadata.Values)
                    {
                        var shape = Array.ConvertAll(metadata.Dimensions, d => (long)d);
                        shape[0] = rows;
                        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, metadata.ElementDataType, shape);
                        values.Add(value);
                        value.GetTensorMutableRawData().Clear();
                    }

                    using var results = _batcher.Runner.Run(_model, names, values, outputs, CancellationToken.None);
                }
                finally
                {
                    foreach (var value in values)
                    {
                        value.Dispose();
                    }
                }
            }
        }
#pragma warning disable CA1031 // A warm-up is an optimisation: whatever failed, batches still run (and report their own failures).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.BatchWarmFailed(_batcher.Logger, _model.Name, _model.ModelVersion, ex.GetType().Name);
            return;
        }

        if (all)
        {
            Log.BatchWarmed(_batcher.Logger, _model.Name, _model.ModelVersion, string.Join(',', sizes), (long)_batcher.Time.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private static long ElementBytes(TensorElementType type) => type switch
    {
        TensorElementType.Bool or TensorElementType.Int8 or TensorElementType.UInt8 => 1,
        TensorElementType.Int16 or TensorElementType.UInt16 or TensorElementType.Float16 or TensorElementType.BFloat16 => 2,
        TensorElementType.Int32 or TensorElementType.UInt32 or TensorElementType.Float => 4,
        _ => 8,
    };

    private long RunRows(long rows) => DynamicBatcher.PaddedRows(rows, Policy.MaxBatchSize, Padding);

    // A shared run's failure that a smaller one may not have: a member's data (refused as invalid, and run apart from
    // the others it is that member's alone), memory or the device run out, or a stacked size past what an array holds.
    private static bool MaySucceedSmaller(Exception exception) =>
        exception is OverflowException or OutOfMemoryException
        || (exception is RefusedException refused
            && (refused.Kind == RefusalKind.Invalid || refused.Refusal == OnnxModelRunner.OutOfResources));

    // A log line never ends the loop: a logger provider that throws is not a batch's failure.
    private static void TryLog(Action log)
    {
        try
        {
            log();
        }
#pragma warning disable CA1031 // Logging is best effort here: the members' outcomes matter, not the line.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    // A shared run one member's data failed: its halves run again, each as a batch of its own, until the failing member
    // runs alone. One bad request among n costs about 2·log2(n) runs more, not n: re-running every member alone, one
    // after another, let one caller's bad input in each batch multiply the runs (and everyone's wait) by the batch size
    // (found in review, 2026-12-06). Four members or fewer run alone at once (halving them saves nothing).
    private void RunHalves(BatchItem[] members)
    {
        if (members.Length <= 4)
        {
            RunEachAlone(members);
            return;
        }

        var half = members.Length / 2;
        Run(members[..half]);
        Run(members[half..]);
    }

    private void RunEachAlone(BatchItem[] members)
    {
        foreach (var member in members)
        {
            RunAlone(member);
        }
    }

    private void RunAlone(BatchItem item)
    {
        if (item.IsDone)
        {
            return;
        }

        try
        {
            if (_model.IsEvicted)
            {
                throw new RefusedException(OnnxModelRunner.Unloaded);
            }

            _batcher.Observe(_model, 1, item.Rows, 0);
            var outputs = _batcher.Runner.RunHere(_model, item.Inputs, item.Outputs, item.CancellationToken);
            item.Succeed(outputs);
        }
#pragma warning disable CA1031 // The failure is the item's own: it goes to its caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            item.Fail(ex);
        }
    }
}
