namespace ServerlessServe.Onnx;

/// <summary>The ONNX Runtime execution provider sessions are created for.</summary>
public enum ExecutionProvider
{
    /// <summary>The default CPU provider (the only one in the CPU build of ONNX Runtime).</summary>
    Cpu,

    /// <summary>NVIDIA CUDA (needs the GPU build of ONNX Runtime, <c>-p:OnnxRuntimeFlavor=Gpu</c>, and a CUDA device).</summary>
    Cuda,
}
