namespace ServerlessServe.Onnx;

/// <summary>Where a <see cref="BatchItem"/> is.</summary>
internal enum BatchItemState
{
    /// <summary>Waiting in the queue.</summary>
    Queued,

    /// <summary>Taken into a run.</summary>
    Taken,

    /// <summary>Cancelled before it was taken: it never runs.</summary>
    Cancelled,
}
