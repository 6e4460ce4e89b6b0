using ServerlessServe.Core.Protocol;

namespace ServerlessServe.Onnx;

/// <summary>
/// One request waiting in a <see cref="BatchQueue"/>: its checked inputs (ordered by name), the outputs it asked for,
/// its rows and when it was queued. Its task completes with its own outputs, its own refusal, or its cancellation.
/// It holds its inputs' lease (pooled arrays, <see cref="TensorLease"/>) from its creation until the queue is done
/// reading them (<see cref="ReleaseInputs"/>), which can be after its request has ended (cancelled while its batch runs).
/// </summary>
internal sealed class BatchItem
{
    private readonly IDisposable _inputHolds;
    private SharedRun? _run;

    public BatchItem(BatchQueue queue, Tensor[] inputs, string[] outputs, long rows, long queuedAt, CancellationToken cancellationToken)
    {
        _inputHolds = TensorLease.HoldAll(inputs);
        Queue = queue;
        Inputs = inputs;
        Outputs = outputs;
        Rows = rows;
        Bytes = InputBytes(inputs);
        QueuedAt = queuedAt;
        CancellationToken = cancellationToken;
    }

    public BatchQueue Queue { get; }

    /// <summary>The request's inputs, ordered by name (ordinal), so the inputs of every item of a batch line up.</summary>
    public Tensor[] Inputs { get; }

    /// <summary>The outputs to run, as <see cref="OnnxModelRunner.CheckOutputs"/> gave them.</summary>
    public string[] Outputs { get; }

    /// <summary>The request's first dimension, the same on every input.</summary>
    public long Rows { get; }

    /// <summary>The bytes of the request's inputs, which a run stacks a copy of (a BYTES element its length).</summary>
    public long Bytes { get; }

    internal static long InputBytes(IReadOnlyList<Tensor> inputs)
    {
        long bytes = 0;
        foreach (var input in inputs)
        {
            bytes += input.DataBytes;
        }

        return bytes;
    }

    /// <summary>When the item was queued (a <see cref="TimeProvider"/> timestamp).</summary>
    public long QueuedAt { get; }

    public CancellationToken CancellationToken { get; }

    public TaskCompletionSource<IReadOnlyList<Tensor>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Where the item is; changed only under its queue's lock.</summary>
    public BatchItemState State { get; set; }

    /// <summary>The shared run the item is part of, once taken with others; cancelled when all of them are cancelled.</summary>
    public SharedRun? Run
    {
        get => Volatile.Read(ref _run);
        set => Volatile.Write(ref _run, value);
    }

    public CancellationTokenRegistration Registration { get; set; }

    public bool IsDone => Completion.Task.IsCompleted;

    /// <summary>
    /// Whether this item can share a run with <paramref name="other"/>: the same inputs with the same datatypes and the
    /// same dimensions after the first, and the same outputs in the same order.
    /// </summary>
    public bool Fits(BatchItem other)
    {
        if (Inputs.Length != other.Inputs.Length || !Outputs.AsSpan().SequenceEqual(other.Outputs))
        {
            return false;
        }

        for (var i = 0; i < Inputs.Length; i++)
        {
            var mine = Inputs[i];
            var theirs = other.Inputs[i];
            if (!string.Equals(mine.Name, theirs.Name, StringComparison.Ordinal) || mine.DataType != theirs.DataType
                || !mine.Shape.AsSpan(1).SequenceEqual(theirs.Shape.AsSpan(1)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lets go of the inputs' lease: the queue reads them no more (once; later calls do nothing).</summary>
    public void ReleaseInputs() => _inputHolds.Dispose();

    /// <summary>Cancels the item: dropped from its queue when not yet taken, its result dropped when running.</summary>
    public void Cancel() => Queue.Cancel(this);

    /// <summary>Completes the item with its outputs and lets go of its cancellation.</summary>
    public void Succeed(IReadOnlyList<Tensor> outputs)
    {
        Completion.TrySetResult(outputs);
        Registration.Dispose();
    }

    /// <summary>Completes the item with its own failure (or its cancellation) and lets go of its cancellation.</summary>
    public void Fail(Exception exception)
    {
        if (exception is OperationCanceledException && CancellationToken.IsCancellationRequested)
        {
            Completion.TrySetCanceled(CancellationToken);
        }
        else
        {
            Completion.TrySetException(exception);
        }

        Registration.Dispose();
    }
}
