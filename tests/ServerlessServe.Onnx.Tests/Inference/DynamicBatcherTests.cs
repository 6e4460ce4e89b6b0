using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Policy;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Onnx.Tests.Inference;

/// <summary>
/// The batcher on the real ONNX Runtime. Requests are queued while the batcher is paused, so which requests share a run
/// is decided by the queue, never by timing; the runs made are read through <see cref="DynamicBatcher.OnRun"/>.
/// </summary>
public sealed class DynamicBatcherTests : IDisposable
{
    private static readonly BatchingPolicy Batch32 = new() { MaxBatchSize = 32 };

    private readonly OnnxSessionCache _cache = InferenceTestModels.NewCache();
    private readonly OnnxModelRunner _runner = new(new FakeLogger<OnnxModelRunner>());
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<(int Requests, long Rows)> _runs = new();
    private readonly DynamicBatcher _batcher;

    public DynamicBatcherTests()
    {
        _batcher = new DynamicBatcher(_runner, _time, new FakeLogger<DynamicBatcher>()) { OnRun = (requests, rows) => _runs.Enqueue((requests, rows)) };
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task RunAsync_RequestArrivesWhileABatchRuns_StartsAnotherOnlyWhenConcurrentBatchesAllow(int concurrentBatches)
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        using var firstEntered = new ManualResetEventSlim();
        using var releaseFirst = new ManualResetEventSlim();
        var calls = 0;
        var batcher = new DynamicBatcher(_runner, _time, new FakeLogger<DynamicBatcher>())
        {
            ConcurrentBatches = concurrentBatches,
            OnRun = (_, _) =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    firstEntered.Set();
                    releaseFirst.Wait(TimeSpan.FromMinutes(1));
                }
            },
        };

        var first = batcher.RunAsync(model, Batch32, [Features(1, seed: 1)], null, default);
        Assert.True(firstEntered.Wait(TimeSpan.FromMinutes(1)));
        var second = batcher.RunAsync(model, Batch32, [Features(2, seed: 2)], null, default);

        // A liveness check, not a timing one: with room for a second batch it completes while the first is held.
        var secondDone = await Task.WhenAny(second, Task.Delay(concurrentBatches > 1 ? TimeSpan.FromMinutes(1) : TimeSpan.FromMilliseconds(300))) == second;
        Assert.Equal(concurrentBatches > 1, secondDone);
        Assert.False(first.IsCompleted);

        releaseFirst.Set();
        await Task.WhenAll(first, second);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task RunAsync_ConcurrentRequestsOfDifferentRows_OneRunEachGetsItsOwnRows()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var requests = new[] { Features(1, seed: 1), Features(3, seed: 2), Features(2, seed: 3), Features(1, seed: 4) };
        var recorded = new ConcurrentQueue<(string Instrument, long Value)>();
        using var listener = Listen(recorded, CreditRiskSample.Name);

        Task<IReadOnlyList<Tensor>>[] batched;
        using (_batcher.Pause())
        {
            batched = requests.Select(r => _batcher.RunAsync(model, Batch32, [r], null, default)).ToArray();
        }

        await Task.WhenAll(batched);
        Assert.Equal([(4, 7L)], _runs);
        for (var i = 0; i < requests.Length; i++)
        {
            var alone = Assert.Single(await _runner.RunAsync(model, [requests[i]], null, default));
            var shared = Assert.Single(await batched[i]);
            Assert.Equal("probabilities", shared.Name);
            Assert.Equal(alone.Shape, shared.Shape);
            AssertClose(alone.As<float>(), shared.As<float>());
        }

        listener.RecordObservableInstruments();
        Assert.Contains(("serverlessserve.inference.batch.rows", 7L), recorded);
        Assert.Contains(("serverlessserve.inference.batch.requests", 4L), recorded);
    }

    [Fact]
    public async Task RunAsync_MaxBatchBytes_ARunStacksNoMoreBytes_ALargerRequestRunsAlone()
    {
        // 16 bytes a row (4 FP32 features): at most 4 rows' bytes in a run, whatever the policy's maxBatchSize.
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var batcher = new DynamicBatcher(_runner, _time, new FakeLogger<DynamicBatcher>()) { MaxBatchBytes = 4 * 16, OnRun = (requests, rows) => _runs.Enqueue((requests, rows)) };
        var requests = new[] { Features(1, seed: 1), Features(3, seed: 2), Features(2, seed: 3), Features(1, seed: 4) };

        Task<IReadOnlyList<Tensor>>[] batched;
        using (batcher.Pause())
        {
            batched = requests.Select(r => batcher.RunAsync(model, Batch32, [r], null, default)).ToArray();
        }

        await Task.WhenAll(batched);
        Assert.Equal([(2, 4L), (2, 3L)], _runs);

        // As many bytes as a run may stack, or more: not queued at all, run as it came.
        var large = Features(4, seed: 5);
        var alone = Assert.Single(await batcher.RunAsync(model, Batch32, [large], null, default));
        Assert.Equal([(2, 4L), (2, 3L)], _runs);
        Assert.Equal(4, alone.Shape[0]);
        for (var i = 0; i < requests.Length; i++)
        {
            var expected = Assert.Single(await _runner.RunAsync(model, [requests[i]], null, default));
            var shared = Assert.Single(await batched[i]);
            AssertClose(expected.As<float>(), shared.As<float>());
        }
    }

    [Fact]
    public async Task RunAsync_MaxBatchBytes_TheWarmUpRunsOnlyTheSizesABatchCanReach()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var logger = new FakeLogger<DynamicBatcher>();
        var batcher = new DynamicBatcher(_runner, _time, logger) { Padding = BatchPadding.PowersOfTwo, MaxBatchBytes = 5 * 16 };

        await batcher.RunAsync(model, new BatchingPolicy { MaxBatchSize = 24 }, [Features(3, seed: 1)], null, default);

        var warmed = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 3113);
        Assert.Contains("(1,2,4,8)", warmed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ManyConcurrentCallers_EachGetsItsOwnOutputsWhateverTheGrouping()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var policy = new BatchingPolicy { MaxBatchSize = 16 };
        var requests = Enumerable.Range(0, 64).Select(i => Features(1 + (i % 5), seed: 100 + i)).ToArray();

        var batched = await Task.WhenAll(requests.Select(r => Task.Run(() => _batcher.RunAsync(model, policy, [r], null, default))));

        // However the requests happened to group, every row ran exactly once and no run passed the cap.
        Assert.Equal(requests.Sum(r => r.Shape[0]), _runs.Sum(run => run.Rows));
        Assert.Equal(requests.Length, _runs.Sum(run => run.Requests));
        Assert.All(_runs, run => Assert.True(run.Rows <= policy.MaxBatchSize));
        for (var i = 0; i < requests.Length; i++)
        {
            var alone = Assert.Single(await _runner.RunAsync(model, [requests[i]], null, default));
            var shared = Assert.Single(batched[i]);
            Assert.Equal(alone.Shape, shared.Shape);
            AssertClose(alone.As<float>(), shared.As<float>());
        }
    }

    [Theory]
    [InlineData(1, 32, 1)]
    [InlineData(3, 32, 4)]
    [InlineData(5, 32, 8)]
    [InlineData(17, 32, 32)]
    [InlineData(17, 24, 24)]
    [InlineData(24, 24, 24)]
    [InlineData(31, 32, 32)]
    public void PaddedRows_NextPowerOfTwo_NeverPastTheMaximum(long rows, long maxBatchSize, long expected) =>
        Assert.Equal(expected, DynamicBatcher.PaddedRows(rows, maxBatchSize));

    [Theory]
    [InlineData(BatchPadding.None, 3, 3)]
    [InlineData(BatchPadding.Maximum, 3, 24)]
    [InlineData(BatchPadding.Maximum, 24, 24)]
    public void PaddedRows_NoneKeepsTheRows_MaximumAlwaysTheMaximum(BatchPadding padding, long rows, long expected) =>
        Assert.Equal(expected, DynamicBatcher.PaddedRows(rows, 24, padding));

    [Fact]
    public async Task RunAsync_MaximumPadding_OneShapeWarmedAndRun()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var logger = new FakeLogger<DynamicBatcher>();
        var batcher = new DynamicBatcher(_runner, _time, logger) { Padding = BatchPadding.Maximum };
        var recorded = new ConcurrentQueue<(string Instrument, long Value)>();
        using var listener = Listen(recorded, CreditRiskSample.Name);

        var request = Features(2, seed: 5);
        var outputs = await batcher.RunAsync(model, new BatchingPolicy { MaxBatchSize = 24 }, [request], null, default);

        var alone = Assert.Single(await _runner.RunAsync(model, [request], null, default));
        var shared = Assert.Single(outputs);
        Assert.Equal(alone.Shape, shared.Shape);
        AssertClose(alone.As<float>(), shared.As<float>());
        Assert.Contains("(24)", Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 3113).Message, StringComparison.Ordinal);
        listener.RecordObservableInstruments();
        Assert.Contains(("serverlessserve.inference.batch.padding", 22L), recorded);
    }

    [Fact]
    public async Task RunAsync_PaddedBatches_RunAtAPowerOfTwo_EachGetsOnlyItsOwnRows()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var batcher = new DynamicBatcher(_runner, _time, new FakeLogger<DynamicBatcher>()) { Padding = BatchPadding.PowersOfTwo, OnRun = (requests, rows) => _runs.Enqueue((requests, rows)) };
        var requests = new[] { Features(1, seed: 1), Features(3, seed: 2), Features(1, seed: 3) };
        var recorded = new ConcurrentQueue<(string Instrument, long Value)>();
        using var listener = Listen(recorded, CreditRiskSample.Name);

        Task<IReadOnlyList<Tensor>>[] batched;
        using (batcher.Pause())
        {
            batched = requests.Select(r => batcher.RunAsync(model, Batch32, [r], null, default)).ToArray();
        }

        await Task.WhenAll(batched);

        // Alone, 3 rows are not a size runs are made at either: padded to 4 as well.
        var alone3 = await batcher.RunAsync(model, Batch32, [requests[1]], null, default);
        Assert.Equal([(3, 5L), (1, 3L)], _runs);
        listener.RecordObservableInstruments();
        Assert.Contains(("serverlessserve.inference.batch.padding", 3L), recorded);
        Assert.Contains(("serverlessserve.inference.batch.padding", 1L), recorded);
        for (var i = 0; i < requests.Length; i++)
        {
            var alone = Assert.Single(await _runner.RunAsync(model, [requests[i]], null, default));
            var shared = Assert.Single(await batched[i]);
            Assert.Equal(alone.Shape, shared.Shape);
            AssertClose(alone.As<float>(), shared.As<float>());
        }

        Assert.Equal(requests[1].Shape[0], Assert.Single(alone3).Shape[0]);
    }

    [Fact]
    public async Task RunAsync_PaddedBatches_TheModelIsWarmedAtEverySizeBeforeTheFirstBatch()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var logger = new FakeLogger<DynamicBatcher>();
        var batcher = new DynamicBatcher(_runner, _time, logger) { Padding = BatchPadding.PowersOfTwo, OnRun = (requests, rows) => _runs.Enqueue((requests, rows)) };

        var outputs = await batcher.RunAsync(model, new BatchingPolicy { MaxBatchSize = 24 }, [Features(3, seed: 1)], null, default);

        Assert.Equal(3, Assert.Single(outputs).Shape[0]);
        var warmed = Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 3113);
        Assert.Contains("(1,2,4,8,16,24)", warmed.Message, StringComparison.Ordinal);
        Assert.Equal([(1, 3L)], _runs);
    }

    [Fact]
    public async Task RunAsync_ConcurrentFirstRequests_OneQueueOneWarmUp()
    {
        // The first requests for a model arrive together: one queue is built for it, so one warm-up and one set of
        // threads, not one per request that raced to build it (on CUDA each would set up its own GPU handles).
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var logger = new FakeLogger<DynamicBatcher>();
        var batcher = new DynamicBatcher(_runner, _time, logger) { Padding = BatchPadding.PowersOfTwo, DedicatedThreads = true };
        const int Requests = 16;
        using var start = new Barrier(Requests);
        var runs = new Task<IReadOnlyList<Tensor>>[Requests];
        var callers = Enumerable.Range(0, Requests).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            runs[i] = batcher.RunAsync(model, Batch32, [Features(1, seed: i)], null, default);
        })).ToList();
        callers.ForEach(t => t.Start());
        callers.ForEach(t => t.Join());

        await Task.WhenAll(runs);

        Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 3113);
    }

    [Fact]
    public async Task RunAsync_UnpaddedBatches_NoWarmUp()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var logger = new FakeLogger<DynamicBatcher>();
        var batcher = new DynamicBatcher(_runner, _time, logger);

        await batcher.RunAsync(model, Batch32, [Features(3, seed: 1)], null, default);

        Assert.DoesNotContain(logger.Collector.GetSnapshot(), r => r.Id.Id is 3113 or 3114);
    }

    [Fact]
    public async Task RunAsync_DedicatedThreads_EveryBatchOfALoopRunsOnItsOwnThread_WarmUpIncluded()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var threads = new ConcurrentQueue<(string? Name, int Id)>();
        var logger = new FakeLogger<DynamicBatcher>();
        var batcher = new DynamicBatcher(_runner, _time, logger)
        {
            Padding = BatchPadding.PowersOfTwo,
            DedicatedThreads = true,
            OnRun = (_, _) => threads.Enqueue((Thread.CurrentThread.Name, Environment.CurrentManagedThreadId)),
        };

        // One after another: each finds the loop gone and starts one, on the first slot's thread again.
        for (var i = 0; i < 3; i++)
        {
            var outputs = await batcher.RunAsync(model, Batch32, [Features(3, seed: i)], null, default);
            Assert.Equal(3, Assert.Single(outputs).Shape[0]);
        }

        Assert.Equal(3, threads.Count);
        Assert.All(threads, t => Assert.Equal($"ServerlessServe batch {CreditRiskSample.Name} 0", t.Name));
        Assert.Single(threads.Select(t => t.Id).Distinct());
        Assert.Single(logger.Collector.GetSnapshot(), r => r.Id.Id == 3113);
    }

    [Fact]
    public async Task RunAsync_CpuModel_RunsStayOnThePoolThreads()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var names = new ConcurrentQueue<string?>();
        var batcher = new DynamicBatcher(_runner, _time, new FakeLogger<DynamicBatcher>()) { OnRun = (_, _) => names.Enqueue(Thread.CurrentThread.Name) };

        await batcher.RunAsync(model, Batch32, [Features(3, seed: 1)], null, default);

        Assert.DoesNotContain(names, n => n?.StartsWith("ServerlessServe batch", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task RunAsync_PaddedBytesBatch_SplitsExactly()
    {
        var model = await InferenceTestModels.IdentityAsync(_cache, TensorDataType.Bytes);
        var batcher = new DynamicBatcher(_runner, _time, new FakeLogger<DynamicBatcher>()) { Padding = BatchPadding.PowersOfTwo };
        var first = new Tensor("x", TensorDataType.Bytes, [1, 2], Elements(TensorDataType.Bytes, 2, offset: 0));
        var second = new Tensor("x", TensorDataType.Bytes, [2, 2], Elements(TensorDataType.Bytes, 4, offset: 2));

        Task<IReadOnlyList<Tensor>> a, b;
        using (batcher.Pause())
        {
            a = batcher.RunAsync(model, Batch32, [first], null, default);
            b = batcher.RunAsync(model, Batch32, [second], null, default);
        }

        AssertSameTensor(first, Assert.Single(await a));
        AssertSameTensor(second, Assert.Single(await b));
    }

    [Theory]
    [MemberData(nameof(OnnxModelRunnerTests.AllDatatypes), MemberType = typeof(OnnxModelRunnerTests))]
    public async Task RunAsync_EveryV2Datatype_StackedAndSplitExactly(TensorDataType type)
    {
        var model = await InferenceTestModels.IdentityAsync(_cache, type);
        var first = new Tensor("x", type, [1, 2], Elements(type, 2, offset: 0));
        var second = new Tensor("x", type, [2, 2], Elements(type, 4, offset: 2));

        Task<IReadOnlyList<Tensor>> a, b;
        using (_batcher.Pause())
        {
            a = _batcher.RunAsync(model, Batch32, [first], null, default);
            b = _batcher.RunAsync(model, Batch32, [second], null, default);
        }

        AssertSameTensor(first, Assert.Single(await a));
        AssertSameTensor(second, Assert.Single(await b));
        Assert.Equal([(2, 3L)], _runs);
    }

    [Fact]
    public async Task RunAsync_MoreRowsThanTheCap_RunsNeverExceedMaxBatchSize()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var policy = new BatchingPolicy { MaxBatchSize = 4 };
        long[] rows = [1, 2, 2, 1, 3];
        var requests = rows.Select((r, i) => Features(r, seed: i)).ToArray();

        Task<IReadOnlyList<Tensor>>[] batched;
        using (_batcher.Pause())
        {
            batched = requests.Select(r => _batcher.RunAsync(model, policy, [r], null, default)).ToArray();
        }

        await Task.WhenAll(batched);
        // Oldest first: 1 + 2 (+ 2 would pass 4, skipped) + 1 = 4 rows; then 2 (+ 3 would pass 4); then 3.
        Assert.Equal([(3, 4L), (1, 2L), (1, 3L)], _runs);
        Assert.All(_runs, run => Assert.True(run.Rows <= policy.MaxBatchSize));
        for (var i = 0; i < requests.Length; i++)
        {
            var alone = Assert.Single(await _runner.RunAsync(model, [requests[i]], null, default));
            var shared = Assert.Single(await batched[i]);
            AssertClose(alone.As<float>(), shared.As<float>());
        }
    }

    [Fact]
    public async Task RunAsync_OneRequestsDataFailsTheRun_OnlyThatRequestIsRefused()
    {
        var model = await InferenceTestModels.CustomerNotesAsync(_cache);

        Task<IReadOnlyList<Tensor>> good, bad, alsoGood;
        using (_batcher.Pause())
        {
            good = _batcher.RunAsync(model, Batch32, [Ids(0, 1)], null, default);
            bad = _batcher.RunAsync(model, Batch32, [Ids(424242)], null, default);
            alsoGood = _batcher.RunAsync(model, Batch32, [Ids(8)], null, default);
        }

        Assert.Equal([CustomerNotesSample.Notes[0], CustomerNotesSample.Notes[1]], Notes(await good));
        Assert.Equal([CustomerNotesSample.Notes[8]], Notes(await alsoGood));
        var error = await Assert.ThrowsAsync<RefusedException>(() => bad);
        Assert.Equal(RefusalKind.Invalid, error.Kind);
        Assert.Equal("inference failed for the given input", error.Message);
        Assert.DoesNotContain("424242", error.ToString(), StringComparison.Ordinal);
        // The shared run failed, then each request ran alone.
        Assert.Equal([(3, 4L), (1, 2L), (1, 1L), (1, 1L)], _runs);
    }

    /// <summary>
    /// One bad request among 16: the shared run fails, then its halves run as batches until the bad one runs alone
    /// (16, 8 + 8, 4 + 4, then the last four alone: 9 runs; running each of the 16 alone took 17).
    /// </summary>
    [Fact]
    public async Task RunAsync_OneBadRequestAmongSixteen_HalvesRunAgain_NotEachAlone()
    {
        var model = await InferenceTestModels.CustomerNotesAsync(_cache);
        var requests = new List<Task<IReadOnlyList<Tensor>>>();
        using (_batcher.Pause())
        {
            for (var i = 0; i < 16; i++)
            {
                requests.Add(_batcher.RunAsync(model, Batch32, [i == 13 ? Ids(424242) : Ids(i % 8)], null, default));
            }
        }

        for (var i = 0; i < 16; i++)
        {
            if (i == 13)
            {
                Assert.Equal(RefusalKind.Invalid, (await Assert.ThrowsAsync<RefusedException>(() => requests[i])).Kind);
            }
            else
            {
                Assert.Equal([CustomerNotesSample.Notes[i % 8]], Notes(await requests[i]));
            }
        }

        Assert.Equal([(16, 16L), (8, 8L), (8, 8L), (4, 4L), (4, 4L), (1, 1L), (1, 1L), (1, 1L), (1, 1L)], _runs);
    }

    [Fact]
    public async Task RunAsync_CancelledWhileQueued_NeverRunsAndOthersDo()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        using var cancellation = new CancellationTokenSource();

        Task<IReadOnlyList<Tensor>> first, cancelled, last;
        using (_batcher.Pause())
        {
            first = _batcher.RunAsync(model, Batch32, [Features(1, seed: 1)], null, default);
            cancelled = _batcher.RunAsync(model, Batch32, [Features(5, seed: 2)], null, cancellation.Token);
            last = _batcher.RunAsync(model, Batch32, [Features(2, seed: 3)], null, default);
            await cancellation.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        }

        var firstRows = Assert.Single(await first).Shape[0];
        var lastRows = Assert.Single(await last).Shape[0];
        Assert.Equal((1L, 2L), (firstRows, lastRows));
        Assert.Equal([(2, 3L)], _runs);
    }

    [Fact]
    public async Task RunAsync_CancelledWhileItsBatchRuns_ResultDroppedOthersComplete()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        using var cancellation = new CancellationTokenSource();
        _batcher.OnRun = (requests, rows) =>
        {
            _runs.Enqueue((requests, rows));
            cancellation.Cancel();
        };

        Task<IReadOnlyList<Tensor>> first, cancelled, last;
        using (_batcher.Pause())
        {
            first = _batcher.RunAsync(model, Batch32, [Features(1, seed: 1)], null, default);
            cancelled = _batcher.RunAsync(model, Batch32, [Features(2, seed: 2)], null, cancellation.Token);
            last = _batcher.RunAsync(model, Batch32, [Features(3, seed: 3)], null, default);
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var firstRows = Assert.Single(await first).Shape[0];
        var lastRows = Assert.Single(await last).Shape[0];
        Assert.Equal((1L, 3L), (firstRows, lastRows));
        Assert.Equal([(3, 6L)], _runs);
    }

    [Fact]
    public async Task RunAsync_PooledInputs_RequestsEndBeforeTheirRun_ArraysGoBackOnlyAfterIt_OutputsTheirOwn()
    {
        var model = await InferenceTestModels.FreeIdentityAsync(_cache);
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var (a, aValues, aLease) = Pooled(pool, 1);
        var (b, bValues, bLease) = Pooled(pool, 2);

        Task<IReadOnlyList<Tensor>> first, second;
        using (_batcher.Pause())
        {
            first = _batcher.RunAsync(model, Batch32, [a], null, default);
            second = _batcher.RunAsync(model, Batch32, [b], null, default);

            // The requests let go (as a request cancelled while queued behind a run would): the queued items still hold.
            aLease.Release();
            bLease.Release();
            Assert.Equal(0, pool.RetainedBytes);
        }

        Assert.Equal(aValues, Assert.Single(await first).As<float>());
        Assert.Equal(bValues, Assert.Single(await second).As<float>());
        Assert.Equal([(2, 2L)], _runs);
        Assert.True(SpinWait.SpinUntil(() => pool.RetainedBytes == 2L * aValues.Length * sizeof(float), TimeSpan.FromMinutes(1)), "the run's arrays never went back");
    }

    [Fact]
    public async Task RunAsync_PooledInput_CancelledWhileQueued_ArrayGoesBackOnceBothLetGo()
    {
        var model = await InferenceTestModels.FreeIdentityAsync(_cache);
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var (input, values, lease) = Pooled(pool, 3);
        using var cancellation = new CancellationTokenSource();

        using (_batcher.Pause())
        {
            var cancelled = _batcher.RunAsync(model, Batch32, [input], null, cancellation.Token);
            await cancellation.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

            // Dropped from the queue: the item let go; the request still holds.
            Assert.False(lease.IsReleased);
            Assert.Equal(values, input.As<float>());
            lease.Release();
            Assert.Equal(values.Length * sizeof(float), pool.RetainedBytes);
        }

        Assert.Empty(_runs);
    }

    [Fact]
    public async Task RunAsync_PooledInput_CancelledWhileItsBatchRuns_ArrayStaysUntilTheRunIsOver()
    {
        var model = await InferenceTestModels.FreeIdentityAsync(_cache);
        var pool = new TensorArrayPool(64L * 1024 * 1024);
        var (kept, keptValues, keptLease) = Pooled(pool, 4);
        var (dropped, _, droppedLease) = Pooled(pool, 5);
        using var cancellation = new CancellationTokenSource();
        using var running = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        _batcher.OnRun = (requests, rows) =>
        {
            _runs.Enqueue((requests, rows));
            running.Set();
            finish.Wait(TimeSpan.FromMinutes(1));
        };

        Task<IReadOnlyList<Tensor>> first, cancelled;
        using (_batcher.Pause())
        {
            first = _batcher.RunAsync(model, Batch32, [kept], null, default);
            cancelled = _batcher.RunAsync(model, Batch32, [dropped], null, cancellation.Token);
        }

        Assert.True(running.Wait(TimeSpan.FromMinutes(1)));
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        droppedLease.Release(); // the cancelled request has ended; its batch is still running

        Assert.False(droppedLease.IsReleased);
        Assert.Equal(0, pool.RetainedBytes);
        finish.Set();

        Assert.Equal(keptValues, Assert.Single(await first).As<float>());
        keptLease.Release();
        Assert.True(SpinWait.SpinUntil(() => droppedLease.IsReleased && keptLease.IsReleased, TimeSpan.FromMinutes(1)), "the run's arrays never went back");
        Assert.Equal(2L * keptValues.Length * sizeof(float), pool.RetainedBytes);
    }

    // One row of 20,000 features (80 KB, pooled) under a lease of its own, and a copy of its values.
    private static (Tensor Tensor, float[] Values, TensorLease Lease) Pooled(TensorArrayPool pool, int seed)
    {
        const int features = 20_000;
        var values = new float[features];
        for (var i = 0; i < features; i++)
        {
            values[i] = ((i * seed) % 101) + seed;
        }

        var lease = pool.Lease();
        var data = (float[])lease.Rent(TensorDataType.Fp32, features);
        values.CopyTo(data, 0);
        return (new Tensor("x", TensorDataType.Fp32, [1, features], data) { Lease = lease }, values, lease);
    }

    [Fact]
    public async Task RunAsync_NotBatchable_RunsAloneAtOnce()
    {
        var fixedBatch = await InferenceTestModels.FixedBatchIdentityAsync(_cache);
        var creditRisk = await InferenceTestModels.CreditRiskAsync(_cache);
        var policy = new BatchingPolicy { MaxBatchSize = 4 };

        using (_batcher.Pause())
        {
            // Paused, so each completes only because it never entered a queue.
            var fixedInput = new Tensor("x", TensorDataType.Fp32, [2, 2], new[] { 1f, 2f, 3f, 4f });
            AssertSameTensor(fixedInput, Assert.Single(await _batcher.RunAsync(fixedBatch, policy, [fixedInput], null, default)), "y");
            Assert.Equal(4L, Assert.Single(await _batcher.RunAsync(creditRisk, policy, [Features(4, seed: 1)], null, default)).Shape[0]);
        }

        Assert.Empty(_runs);
    }

    /// <summary>
    /// A model whose output leads with a free dimension other than the inputs' batch dimension (a count that depends on
    /// the data, as NonZero's or a detector's) is never batched: split back by row count alone, one caller could be
    /// handed rows computed from another's input whenever that count equalled the batch's rows (found in review).
    /// </summary>
    [Fact]
    public async Task RunAsync_OutputLeadingWithAnotherFreeDimension_NotBatchedRunsAlone()
    {
        var model = await InferenceTestModels.OtherLeadingOutputIdentityAsync(_cache, "k");
        Assert.False(BatchQueue.IsBatchable(model.Session));
        Assert.True(BatchQueue.IsBatchable((await InferenceTestModels.FreeIdentityAsync(_cache)).Session));

        using (_batcher.Pause())
        {
            // Paused, so it completes only because it never entered a queue.
            var input = new Tensor("x", TensorDataType.Fp32, [1, 2], new[] { 1f, 2f });
            AssertSameTensor(input, Assert.Single(await _batcher.RunAsync(model, new BatchingPolicy { MaxBatchSize = 4 }, [input], null, default)), "y");
        }

        Assert.Empty(_runs);
    }

    /// <summary>
    /// A model unloaded while its requests wait in the queue: the batch's run finds it gone, and every member fails at
    /// once with the unloaded refusal (the infer stage resolves the version again on it), with no run and no halves run
    /// again (review 2026-12-08: 8 members made 7 more failing runs, each answered a 503 the gateway counted).
    /// </summary>
    [Fact]
    public async Task RunAsync_ModelUnloadedWhileQueued_EveryMemberFailsAtOnceUnloaded_NoSplit()
    {
        var model = await InferenceTestModels.CustomerNotesAsync(_cache);
        var requests = new List<Task<IReadOnlyList<Tensor>>>();
        using (_batcher.Pause())
        {
            for (var i = 0; i < 8; i++)
            {
                requests.Add(_batcher.RunAsync(model, Batch32, [Ids(i)], null, default));
            }

            model.Evict();
        }

        foreach (var request in requests)
        {
            var refused = await Assert.ThrowsAsync<RefusedException>(() => request);
            Assert.Equal(OnnxModelRunner.UnloadedReason, refused.Refusal.Reason);
        }

        // Nothing stacked or counted as a run for a session that is gone.
        Assert.Empty(_runs);
    }

    /// <summary>
    /// An output whose other dimensions the model sizes from the data is never batched (a decoder padding every row to
    /// the batch's longest would give each caller a shape set by another's input; review 2026-12-08); fixed ones, or
    /// ones named as an input's other dimension, which requests that share a run share, are.
    /// </summary>
    [Theory]
    [InlineData(new[] { -1, 4 }, new[] { "N", "" }, new[] { -1, 10 }, new[] { "N", "" }, true)]
    [InlineData(new[] { -1, -1 }, new[] { "N", "T" }, new[] { -1, -1 }, new[] { "N", "T" }, true)]
    [InlineData(new[] { -1, 4 }, new[] { "N", "" }, new[] { -1, -1 }, new[] { "N", "T" }, false)]
    [InlineData(new[] { -1, -1 }, new[] { "N", "T" }, new[] { -1, -1 }, new[] { "N", "U" }, false)]
    [InlineData(new[] { -1, 4 }, new[] { "N", "" }, new[] { -1, -1 }, new[] { "N", "" }, false)]
    [InlineData(new[] { -1, 4 }, new[] { "N", "" }, new[] { -1, 10, -1 }, new[] { "N", "", "seq" }, false)]
    public void IsBatchable_OutputsOtherDimensions_FixedOrAnInputs(int[] inputDims, string[] inputSymbols, int[] outputDims, string[] outputSymbols, bool batchable) =>
        Assert.Equal(batchable, BatchQueue.IsBatchable([(true, inputDims, inputSymbols)], [(true, outputDims, outputSymbols)]));

    [Fact]
    public async Task RunAsync_InputsThatDoNotFit_RefusedBeforeQueueing()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);

        using (_batcher.Pause())
        {
            var shape = await Assert.ThrowsAsync<RefusedException>(() =>
                _batcher.RunAsync(model, Batch32, [new Tensor("features", TensorDataType.Fp32, [1, 5], new float[5])], null, default));
            var output = await Assert.ThrowsAsync<RefusedException>(() =>
                _batcher.RunAsync(model, Batch32, [Features(1, seed: 1)], ["logits"], default));

            Assert.Equal("input shape does not match the model", shape.Message);
            Assert.Equal("unknown output", output.Message);
        }

        Assert.Empty(_runs);
    }

    [Fact]
    public async Task RunAsync_DifferentTrailingDimensions_NeverShareARun()
    {
        var model = await InferenceTestModels.FreeIdentityAsync(_cache);
        var narrow = new Tensor("x", TensorDataType.Fp32, [1, 2], new[] { 1f, 2f });
        var wide = new Tensor("x", TensorDataType.Fp32, [1, 3], new[] { 3f, 4f, 5f });
        var narrowToo = new Tensor("x", TensorDataType.Fp32, [2, 2], new[] { 6f, 7f, 8f, 9f });

        Task<IReadOnlyList<Tensor>> a, b, c;
        using (_batcher.Pause())
        {
            a = _batcher.RunAsync(model, Batch32, [narrow], null, default);
            b = _batcher.RunAsync(model, Batch32, [wide], null, default);
            c = _batcher.RunAsync(model, Batch32, [narrowToo], null, default);
        }

        AssertSameTensor(narrow, Assert.Single(await a), "y");
        AssertSameTensor(wide, Assert.Single(await b), "y");
        AssertSameTensor(narrowToo, Assert.Single(await c), "y");
        Assert.Equal([(2, 3L), (1, 1L)], _runs);
    }

    [Fact]
    public async Task RunAsync_BatchBehindARun_WaitsForTheDelayOnTheInjectedClock()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var policy = new BatchingPolicy { MaxBatchSize = 8, MaxQueueDelay = TimeSpan.FromMilliseconds(5) };
        var behind = QueueOnceWhileTheFirstRunIsBusy(model, policy, Features(2, seed: 2));

        // A request reaching an idle model runs at once: nothing moves the clock, and it completes.
        Assert.Equal(1L, Assert.Single(await _batcher.RunAsync(model, policy, [Features(1, seed: 1)], null, default)).Shape[0]);
        var joining = _batcher.RunAsync(model, policy, [Features(3, seed: 3)], null, default);

        // Five of eight rows queued behind a run: they wait for the clock, which has not moved.
        Assert.False(behind().IsCompleted);
        Assert.False(joining.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await Task.WhenAll(behind(), joining);
        Assert.Equal([(1, 1L), (2, 5L)], _runs);
    }

    [Fact]
    public async Task RunAsync_FullBatchBehindARun_DoesNotWaitForTheDelay()
    {
        var model = await InferenceTestModels.CreditRiskAsync(_cache);
        var policy = new BatchingPolicy { MaxBatchSize = 8, MaxQueueDelay = TimeSpan.FromMilliseconds(5) };
        var behind = QueueOnceWhileTheFirstRunIsBusy(model, policy, Features(2, seed: 2));

        await _batcher.RunAsync(model, policy, [Features(1, seed: 1)], null, default);
        var filling = _batcher.RunAsync(model, policy, [Features(6, seed: 4)], null, default);

        // 2 + 6 rows fill the batch: it runs with the clock never moved.
        await Task.WhenAll(behind(), filling);
        Assert.Equal([(1, 1L), (2, 8L)], _runs);
    }

    public void Dispose() => _cache.Dispose();

    // Queues a request from inside the first run the batcher makes (before ONNX Runtime starts it), so it is certainly
    // queued behind a busy run; returns its task once that has happened.
    private Func<Task<IReadOnlyList<Tensor>>> QueueOnceWhileTheFirstRunIsBusy(LoadedModel model, BatchingPolicy policy, Tensor input)
    {
        Task<IReadOnlyList<Tensor>>? queued = null;
        _batcher.OnRun = (requests, rows) =>
        {
            _runs.Enqueue((requests, rows));
            queued ??= _batcher.RunAsync(model, policy, [input], null, default);
        };
        return () => queued ?? throw new InvalidOperationException("no run has started");
    }

    private static Tensor Features(long rows, int seed)
    {
        var random = new Random(seed);
        var data = new float[rows * 4];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (float)(random.NextDouble() * 20);
        }

        return new Tensor("features", TensorDataType.Fp32, [rows, 4], data);
    }

    private static Tensor Ids(params long[] ids) => new("customer_id", TensorDataType.Int64, [ids.Length], ids);

    private static string[] Notes(IReadOnlyList<Tensor> outputs) => Assert.Single(outputs).As<byte[]>().Select(b => Encoding.UTF8.GetString(b)).ToArray();

    // Batched and lone runs may differ in the last bits when ONNX Runtime's kernels block a larger batch differently;
    // 1e-6 absolute on probabilities in [0, 1] is far below anything the policy's rounding keeps.
    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6f, $"element {i}: {expected[i]} vs {actual[i]}");
        }
    }

    private static void AssertSameTensor(Tensor input, Tensor output, string name = "y")
    {
        Assert.Equal(name, output.Name);
        Assert.Equal(input.DataType, output.DataType);
        Assert.Equal(input.Shape, output.Shape);
        if (input.DataType == TensorDataType.Bytes)
        {
            Assert.Equal(input.As<byte[]>().Select(Convert.ToHexString), output.As<byte[]>().Select(Convert.ToHexString));
        }
        else
        {
            Assert.Equal(input.Data.Cast<object>(), output.Data.Cast<object>());
        }
    }

    private static Array Elements(TensorDataType type, int count, int offset)
    {
        var values = Enumerable.Range(offset + 1, count).ToArray();
        return type switch
        {
            TensorDataType.Bool => values.Select(v => v % 3 == 0).ToArray(),
            TensorDataType.UInt8 => values.Select(v => (byte)(v * 50)).ToArray(),
            TensorDataType.UInt16 => values.Select(v => (ushort)(v * 10_000)).ToArray(),
            TensorDataType.UInt32 => values.Select(v => (uint)v * 1_000_000_000u).ToArray(),
            TensorDataType.UInt64 => values.Select(v => (ulong)v << 60).ToArray(),
            TensorDataType.Int8 => values.Select(v => (sbyte)(-v * 20)).ToArray(),
            TensorDataType.Int16 => values.Select(v => (short)(-v * 5_000)).ToArray(),
            TensorDataType.Int32 => values.Select(v => -v * 500_000_000).ToArray(),
            TensorDataType.Int64 => values.Select(v => -(long)v << 60).ToArray(),
            TensorDataType.Fp16 => values.Select(v => (Half)(v * 0.25f)).ToArray(),
            TensorDataType.Fp32 => values.Select(v => v * 0.1f).ToArray(),
            TensorDataType.Fp64 => values.Select(v => v * Math.PI).ToArray(),
            _ => values.Select(v => Encoding.UTF8.GetBytes(new string('é', v % 3))).ToArray(),
        };
    }

    private static MeterListener Listen(ConcurrentQueue<(string Instrument, long Value)> recorded, string model)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == PipelineTelemetry.SourceName && instrument.Name.StartsWith("serverlessserve.inference.batch.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();
        return listener;

        void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "model" && Equals(tag.Value, model))
                {
                    recorded.Enqueue((instrument.Name, value));
                }
            }
        }
    }
}
