using BenchmarkDotNet.Running;

namespace ServerlessServe.Benchmarks;

/// <summary>Entry point: every benchmark class in this assembly, chosen with <c>--filter</c> (see docs/performance.md).</summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // Before anything loads ONNX Runtime, here and in the benchmark processes started from here (docs/design.md).
        Onnx.OnnxRuntimeTelemetry.DisableBeforeLoad();
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
