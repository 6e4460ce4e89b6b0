using System.Text;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Onnx.Tests.Inference;

public sealed class OnnxModelRunnerTests : IDisposable
{
    private readonly OnnxSessionCache _cache = InferenceTestModels.NewCache();
    private readonly OnnxModelRunner _runner = new(new FakeLogger<OnnxModelRunner>());

    [Fact]
    public async Task RunAsync_CreditRisk_ProbabilitiesPerRowSumToOne()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        float[] rows = [0.2f, 0.1f, 0f, 18f, 0.7f, 0.85f, 5f, 2f];

        var outputs = await _runner.RunAsync(model, [new Tensor("features", TensorDataType.Fp32, [2, 4], rows)], null, default);

        var probabilities = Assert.Single(outputs);
        Assert.Equal("probabilities", probabilities.Name);
        Assert.Equal([2L, 3L], probabilities.Shape);
        var values = probabilities.As<float>();
        Assert.Equal(1.0, values[0] + values[1] + values[2], 4);
        Assert.Equal(1.0, values[3] + values[4] + values[5], 4);
        Assert.True(values[0] > 0.8, "a clearly low-risk row is classed low");
        Assert.True(values[5] > 0.8, "a clearly high-risk row is classed high");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_IntraOpSpinningOnOrOff_SameProbabilities(bool spinning)
    {
        // Spinning changes how ONNX Runtime's threads wait, never what they compute: two threads either way.
        using var cache = InferenceTestModels.NewCache(new InferenceOptions { IntraOpNumThreads = 2, AllowSpinning = spinning });
        float[] rows = [0.2f, 0.1f, 0f, 18f, 0.7f, 0.85f, 5f, 2f];
        var input = new Tensor("features", TensorDataType.Fp32, [2, 4], rows);
        var reference = await _runner.RunAsync(await InferenceTestModels.CreditRiskAsync(_cache), [input], null, default);

        var outputs = await _runner.RunAsync(await InferenceTestModels.CreditRiskAsync(cache), [input], null, default);

        Assert.Equal(Assert.Single(reference).As<float>().ToArray(), Assert.Single(outputs).As<float>().ToArray());
    }

    [Fact]
    public async Task RunAsync_CustomerNotes_ReturnsStoredNotesAsUtf8()
    {
        var model = await InferenceTestModels.CustomerNotesAsync(_cache);

        var outputs = await _runner.RunAsync(model, [new Tensor("customer_id", TensorDataType.Int64, [3], new long[] { 0, 1, 8 })], ["note"], default);

        var notes = Assert.Single(outputs);
        Assert.Equal(TensorDataType.Bytes, notes.DataType);
        Assert.Equal([3L], notes.Shape);
        Assert.Equal(
            [CustomerNotesSample.Notes[0], CustomerNotesSample.Notes[1], CustomerNotesSample.Notes[8]],
            notes.As<byte[]>().Select(b => Encoding.UTF8.GetString(b)));
        Assert.Contains("@example.com", Encoding.UTF8.GetString(notes.As<byte[]>()[0]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_GatherIndexOutOfRange_400WithoutEcho()
    {
        var model = await InferenceTestModels.CustomerNotesAsync(_cache);

        var error = await Assert.ThrowsAsync<RefusedException>(() =>
            _runner.RunAsync(model, [new Tensor("customer_id", TensorDataType.Int64, [1], new long[] { 424242 })], null, default));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.Equal("inference failed for the given input", error.Message);
        Assert.DoesNotContain("424242", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("InvalidArgument", RefusalKind.Invalid, false)]
    [InlineData("RuntimeException", RefusalKind.Invalid, false)]
    [InlineData("Fail", RefusalKind.Invalid, false)]
    [InlineData("ShapeInferenceNotRegistered", RefusalKind.Unavailable, false)]
    [InlineData("NotImplemented", RefusalKind.Unavailable, true)]
    [InlineData("EngineError", RefusalKind.Unavailable, true)]
    [InlineData("InvalidGraph", RefusalKind.Unavailable, true)]
    [InlineData("ModelLoaded", RefusalKind.Unavailable, true)]
    [InlineData("Unknown", RefusalKind.Unavailable, true)]
    public void RunFailure_InputErrors400_DeviceFailureRetried_TheModelsOwnFailureScopedToTheVersion(string category, RefusalKind kind, bool versionScoped)
    {
        // A version-scoped 503 is neither retried by the gateway nor counted toward the model's breaker
        // (InferenceResilience.IsTransient): a failure that every try repeats must not let one caller open the breaker.
        var refusal = OnnxModelRunner.RunFailure(category);

        Assert.Equal(kind, refusal.Kind);
        Assert.Equal(versionScoped, refusal.VersionScoped);
        Assert.DoesNotContain(category, refusal.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The CUDA provider's failures reach the runner as RuntimeException or Fail, not ORT_EP_FAIL: for want of memory or
    /// of the device they are 503 scoped to the version (not the caller's input, and not retried or counted, since an
    /// allocation can be sized by the caller's values), never 400 and never with the native message.
    /// </summary>
    [Theory]
    [InlineData("RuntimeException", "[ErrorCode:RuntimeException] Non-zero status code returned while running MatMul node. Name:'m' Status Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:376 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for requested buffer of size 4294967296")]
    [InlineData("Fail", "[ErrorCode:Fail] CUDA failure 2: out of memory ; GPU=0 ; hostname=h ; file=cuda_allocator.cc ; line=47 ; expr=cudaMalloc((void**)&p, size);")]
    [InlineData("RuntimeException", "[ErrorCode:RuntimeException] std::bad_alloc")]
    [InlineData("Fail", "[ErrorCode:Fail] CUBLAS failure 13: CUBLAS_STATUS_EXECUTION_FAILED ; GPU=0")]
    public void RunFailure_OutOfMemoryOrDevice_503ScopedToTheVersion(string category, string message)
    {
        var refusal = OnnxModelRunner.RunFailure(category, message);

        Assert.Equal(RefusalKind.Unavailable, refusal.Kind);
        Assert.True(refusal.VersionScoped);
        Assert.Equal(TimeSpan.FromSeconds(1), refusal.RetryAfter);
        Assert.Equal("inference unavailable", refusal.Message);
        Assert.Equal(RefusalKind.Invalid, OnnxModelRunner.RunFailure(category, "[ErrorCode:" + category + "] Gather: indices element out of data bounds, idx=424242").Kind);
    }

    [Theory]
    [InlineData("unknown input")]
    [InlineData("input datatype does not match the model")]
    [InlineData("input shape does not match the model")]
    [InlineData("missing input")]
    [InlineData("unknown output")]
    public async Task RunAsync_InputsThatDoNotFit_400(string expected)
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var good = new Tensor("features", TensorDataType.Fp32, [1, 4], new float[4]);
        (Tensor[] Inputs, string[]? Outputs) request = expected switch
        {
            "unknown input" => ([good, new Tensor("other", TensorDataType.Fp32, [1], new float[1])], null),
            "input datatype does not match the model" => ([new Tensor("features", TensorDataType.Fp64, [1, 4], new double[4])], null),
            "input shape does not match the model" => ([new Tensor("features", TensorDataType.Fp32, [1, 5], new float[5])], null),
            "missing input" => ([], null),
            _ => ([good], ["logits"]),
        };

        var error = await Assert.ThrowsAsync<RefusedException>(() => _runner.RunAsync(model, request.Inputs, request.Outputs, default));

        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.Equal(expected, error.Message);
    }

    public static TheoryData<TensorDataType> AllDatatypes() => new(Enum.GetValues<TensorDataType>());

    [Theory]
    [MemberData(nameof(AllDatatypes))]
    public async Task RunAsync_EveryV2Datatype_RoundTripsThroughOrt(TensorDataType type)
    {
        var model = await InferenceTestModels.IdentityAsync(_cache, type);
        Array data = type switch
        {
            TensorDataType.Bool => new[] { true, false, false, true },
            TensorDataType.UInt8 => new byte[] { 0, 1, 200, 255 },
            TensorDataType.UInt16 => new ushort[] { 0, 1, 60_000, ushort.MaxValue },
            TensorDataType.UInt32 => new uint[] { 0, 1, 4_000_000_000, uint.MaxValue },
            TensorDataType.UInt64 => new ulong[] { 0, 1, 1UL << 63, ulong.MaxValue },
            TensorDataType.Int8 => new sbyte[] { -128, -1, 1, 127 },
            TensorDataType.Int16 => new short[] { short.MinValue, -1, 1, short.MaxValue },
            TensorDataType.Int32 => new[] { int.MinValue, -1, 1, int.MaxValue },
            TensorDataType.Int64 => new[] { long.MinValue, -1, 1, long.MaxValue },
            TensorDataType.Fp16 => new[] { (Half)(-1.5f), (Half)0.25f, Half.MaxValue, (Half)3.140625f },
            TensorDataType.Fp32 => new[] { -1.5f, 0.25f, float.MaxValue, 3.14159f },
            TensorDataType.Fp64 => new[] { -1.5, 0.25, double.MaxValue, Math.PI },
            _ => new[] { "é-ü"u8.ToArray(), Array.Empty<byte>(), "x"u8.ToArray(), Encoding.UTF8.GetBytes("notes") },
        };

        var outputs = await _runner.RunAsync(model, [new Tensor("x", type, [2, 2], data)], null, default);

        var y = Assert.Single(outputs);
        Assert.Equal(type, y.DataType);
        Assert.Equal([2L, 2L], y.Shape);
        if (type == TensorDataType.Bytes)
        {
            Assert.Equal(((byte[][])data).Select(Convert.ToHexString), y.As<byte[]>().Select(Convert.ToHexString));
        }
        else
        {
            Assert.Equal(data.Cast<object>(), y.Data.Cast<object>());
        }
    }

    [Fact]
    public void Pin_NumericTensor_OrtReadsTheArrayInPlace_Fp16AndBytesCopied()
    {
        var image = new float[3 * 224 * 224];
        using (var pinned = OrtTensors.Pin(new Tensor("image", TensorDataType.Fp32, [1, 3, 224, 224], image)))
        {
            // The value is the array itself: a write to the array is what ONNX Runtime reads.
            image[1234] = 42f;
            Assert.Equal(42f, pinned.GetTensorDataAsSpan<float>()[1234]);
            Assert.Equal([1L, 3L, 224L, 224L], pinned.GetTensorTypeAndShape().Shape);
        }

        var half = new[] { (Half)1f, (Half)2f };
        using (var copied = OrtTensors.Pin(new Tensor("h", TensorDataType.Fp16, [2], half)))
        {
            half[0] = (Half)7f;
            Assert.Equal(BitConverter.HalfToUInt16Bits((Half)1f), copied.GetTensorDataAsSpan<Microsoft.ML.OnnxRuntime.Float16>()[0].value);
        }

        using var empty = OrtTensors.Pin(new Tensor("e", TensorDataType.Fp32, [0, 4], Array.Empty<float>()));
        Assert.Equal([0L, 4L], empty.GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public async Task RunAsync_InputReadInPlace_LeftAsItWas()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var features = new[] { 0.35f, 0.4f, 1f, 9f, 0.1f, 0.2f, 0f, 3f };

        var first = await _runner.RunAsync(model, [new Tensor("features", TensorDataType.Fp32, [2, 4], features)], null, default);
        var again = await _runner.RunAsync(model, [new Tensor("features", TensorDataType.Fp32, [2, 4], features)], null, default);

        Assert.Equal([0.35f, 0.4f, 1f, 9f, 0.1f, 0.2f, 0f, 3f], features);
        Assert.Equal(first[0].Data.Cast<object>(), again[0].Data.Cast<object>());
    }

    [Fact]
    public async Task RunAsync_AlreadyCancelled_Throws()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _runner.RunAsync(model, [new Tensor("features", TensorDataType.Fp32, [1, 4], new float[4])], null, new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task RunAsync_OnRunThreads_SameOutputs_NoMoreThreadsThanAllowed()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var threads = new RunThreads("test run", 2);
        var runner = new OnnxModelRunner(new FakeLogger<OnnxModelRunner>()) { CudaRunThreads = threads, RunThreadsForEveryProvider = true };
        var inputs = Enumerable.Range(0, 16).Select(i => new Tensor("features", TensorDataType.Fp32, [1, 4], new[] { i / 16f, 0.5f, i % 4, 18 - i })).ToArray();
        var expected = new List<float[]>();
        foreach (var input in inputs)
        {
            expected.Add(Assert.Single(await _runner.RunAsync(model, [input], null, default)).As<float>().ToArray());
        }

        var outputs = await Task.WhenAll(inputs.Select(input => Task.Run(() => runner.RunAsync(model, [input], null, default))));

        Assert.Equal(expected, outputs.Select(o => Assert.Single(o).As<float>().ToArray()));
        Assert.InRange(threads.Started, 1, 2);
    }

    [Fact]
    public async Task RunAsync_OnRunThreads_InputThatDoesNotFit_RefusedBeforeAnyRunIsQueued()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var threads = new RunThreads("test run", 1);
        var runner = new OnnxModelRunner(new FakeLogger<OnnxModelRunner>()) { CudaRunThreads = threads, RunThreadsForEveryProvider = true };

        var refused = await Assert.ThrowsAsync<RefusedException>(() => runner.RunAsync(model, [new Tensor("nope", TensorDataType.Fp32, [1, 4], new float[4])], null, default));

        Assert.Equal(RefusalKind.Invalid, refused.Refusal.Kind);
        Assert.Equal(0, threads.Started);
    }

    [Fact]
    public async Task RunAsync_OnRunThreads_CancelledWhileQueued_EndsCancelledAtOnce()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var threads = new RunThreads("test run", 1);
        var runner = new OnnxModelRunner(new FakeLogger<OnnxModelRunner>()) { CudaRunThreads = threads, RunThreadsForEveryProvider = true };
        using var gate = new ManualResetEventSlim();
        var busy = threads.RunAsync(gate.Wait);
        using var cancel = new CancellationTokenSource();

        var queued = runner.RunAsync(model, [new Tensor("features", TensorDataType.Fp32, [1, 4], new float[] { 0.2f, 0.1f, 0f, 18f })], null, cancel.Token);
        await cancel.CancelAsync();

        // Cancelled while the only thread is still busy: the caller has its answer without waiting for the queue.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.False(busy.IsCompleted);
        gate.Set();
        await busy;
    }

    [Fact]
    public async Task RunAsync_WithRunThreads_ModelOnTheCpu_RunsOnTheCallersThread()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var threads = new RunThreads("test run", 2);
        var runner = new OnnxModelRunner(new FakeLogger<OnnxModelRunner>()) { CudaRunThreads = threads };

        var outputs = await runner.RunAsync(model, [new Tensor("features", TensorDataType.Fp32, [1, 4], new float[] { 0.2f, 0.1f, 0f, 18f })], null, default);

        Assert.Equal([1L, 3L], Assert.Single(outputs).Shape);
        Assert.Equal(0, threads.Started);
    }

    public void Dispose() => _cache.Dispose();
}
