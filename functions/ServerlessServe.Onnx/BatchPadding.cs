namespace ServerlessServe.Onnx;

/// <summary>The sizes the batcher runs batches at (<see cref="InferenceOptions.BatchPadding"/>).</summary>
public enum BatchPadding
{
    /// <summary><see cref="PowersOfTwo"/> for models on CUDA, <see cref="None"/> on the CPU.</summary>
    Auto,

    /// <summary>Every batch runs at exactly its requests' rows.</summary>
    None,

    /// <summary>
    /// Batches run padded with rows of zeros to the next power of two, capped at the policy's maximum: with 32, sizes 1,
    /// 2, 4, 8, 16 and 32.
    /// </summary>
    PowersOfTwo,

    /// <summary>Every batch runs at the policy's maximum: one input shape only, however many rows it holds.</summary>
    Maximum,
}
