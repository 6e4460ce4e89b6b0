using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Local.Samples;

namespace ServerlessServe.Onnx.Tests.Inference;

public sealed class OnnxSessionCacheTests
{
    [Fact]
    public async Task GetOrCreate_SameDigest_SameSessionAndOneLoad()
    {
        using var cache = InferenceTestModels.NewCache();
        var package = TestPackages.CreditRisk(CreditRiskSample.Name, "1");
        var verified = InferenceTestModels.Verified(package, TestPackages.CreditRiskModel);
        var loads = 0;

        var models = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => cache.GetOrCreateAsync(verified.Version, async _ =>
        {
            Interlocked.Increment(ref loads);
            await Task.Delay(50, CancellationToken.None);
            return verified;
        }, default))));

        Assert.Equal(1, loads);
        Assert.All(models, m => Assert.Same(models[0].Session, m.Session));
        Assert.True(cache.TryGet(package.ManifestDigest, out var cached));
        Assert.Same(models[0], cached);
        Assert.Equal(1, cache.Count);
        Assert.Equal(ExecutionProvider.Cpu, models[0].ExecutionProvider);
    }

    [Fact]
    public async Task GetOrCreate_DifferentDigests_DifferentSessions()
    {
        using var cache = InferenceTestModels.NewCache();

        var first = await InferenceTestModels.CreditRiskAsync(cache);
        var second = await InferenceTestModels.CustomerNotesAsync(cache);

        Assert.NotSame(first.Session, second.Session);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public async Task GetOrCreate_ModelOrtRefuses_ModelFailureNotCached()
    {
        using var cache = InferenceTestModels.NewCache();
        var model = global::Onnx.ModelProto.Parser.ParseFrom(TestPackages.CreditRiskModel);
        model.Graph.Node[0].OpType = "NoSuchOperator";
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
        var verified = InferenceTestModels.Verified(TestPackages.PackUnchecked("broken", "1", bytes, SampleModels.GetPolicy(CreditRiskSample.Name)), bytes);

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => cache.GetOrCreateAsync(verified, default));

        Assert.Equal(ModelVerificationFailure.Model, error.Failure);
        Assert.False(cache.TryGet(verified.Version.ManifestDigest, out _));
    }

    /// <summary>
    /// Bytes that open with an unknown protobuf field holding ONNX Runtime's ORT-format marker ("ORTM" at offsets 4-7)
    /// are what the checks read: a ModelProto, the same graph. The session is made from that same reading, never from
    /// an ORT-format flatbuffer the bytes might also hold (before the fix, ONNX Runtime took the ORT path and refused).
    /// </summary>
    [Fact]
    public async Task GetOrCreate_BytesCarryingTheOrtFormatMarker_LoadedAsTheOnnxGraphTheChecksRead()
    {
        using var cache = InferenceTestModels.NewCache();
        byte[] bytes = [0x7A, 0x06, 0xFF, 0x7F, (byte)'O', (byte)'R', (byte)'T', (byte)'M', .. TestPackages.CreditRiskModel];
        var inspected = OnnxModelInspector.Parse(bytes);
        Assert.Equal(global::Onnx.ModelProto.Parser.ParseFrom(TestPackages.CreditRiskModel).Graph, inspected.Graph);
        var verified = InferenceTestModels.Verified(TestPackages.PackUnchecked("ortm", "1", bytes, SampleModels.GetPolicy(CreditRiskSample.Name)), bytes);

        var loaded = await cache.GetOrCreateAsync(verified, default);

        Assert.Equal(
            global::Onnx.ModelProto.Parser.ParseFrom(TestPackages.CreditRiskModel).Graph.Input.Select(i => i.Name),
            loaded.Session.InputMetadata.Keys);
    }

    /// <summary>
    /// After a load ran out of memory or device, loads of that version are refused at once for the back-off: before the
    /// load gate and before the bytes are fetched (the loader is never called), as 503 scoped to the version.
    /// </summary>
    [Fact]
    public async Task GetOrCreate_BackingOffAfterOutOfResources_RefusedWithoutLoading()
    {
        using var cache = InferenceTestModels.NewCache();
        var verified = InferenceTestModels.Verified(TestPackages.CreditRisk(CreditRiskSample.Name, "1"), TestPackages.CreditRiskModel);
        cache.BackOff(verified.Version.ManifestDigest);
        var loads = 0;

        var refused = await Assert.ThrowsAsync<Core.Pipeline.RefusedException>(() => cache.GetOrCreateAsync(verified.Version, _ =>
        {
            loads++;
            return Task.FromResult(verified);
        }, default));

        Assert.Equal(0, loads);
        Assert.True(refused.Refusal.VersionScoped);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Refusal.RetryAfter);
    }

    [Fact]
    public async Task GetOrCreate_LoaderReturnsOtherVersion_Refused()
    {
        using var cache = InferenceTestModels.NewCache();
        var wanted = InferenceTestModels.Verified(TestPackages.CreditRisk(CreditRiskSample.Name, "1"), TestPackages.CreditRiskModel);
        var other = InferenceTestModels.Verified(TestPackages.CreditRisk(CreditRiskSample.Name, "2"), TestPackages.CreditRiskModel);

        await Assert.ThrowsAsync<ModelVerificationException>(() => cache.GetOrCreateAsync(wanted.Version, _ => Task.FromResult(other), default));
    }

    /// <summary>
    /// A load whose bytes never finish coming is given up after the load timeout, and the loads behind it (one at a time
    /// per instance) go on; the next request for it tries again (review 2026-12-08: it held every other version's first
    /// load for as long as the download took).
    /// </summary>
    [Fact]
    public async Task GetOrCreate_LoadThatNeverEnds_GivenUpAfterTheTimeout_OthersLoadBehindIt_TriedAgainNext()
    {
        using var cache = InferenceTestModels.NewCache(new InferenceOptions { IntraOpNumThreads = 1, ModelLoadTimeout = TimeSpan.FromMilliseconds(300) });
        var stuck = InferenceTestModels.Verified(TestPackages.CreditRisk(CreditRiskSample.Name, "1"), TestPackages.CreditRiskModel);
        var other = InferenceTestModels.Verified(TestPackages.CreditRisk(CreditRiskSample.Name, "2"), TestPackages.CreditRiskModel);

        var trickle = cache.GetOrCreateAsync(stuck.Version, async token =>
        {
            await Task.Delay(Timeout.Infinite, token);
            return stuck;
        }, default);
        var behind = cache.GetOrCreateAsync(other, default);

        await Assert.ThrowsAsync<TimeoutException>(() => trickle);
        Assert.Equal("2", (await behind.WaitAsync(TimeSpan.FromSeconds(30))).ModelVersion);
        Assert.Equal("1", (await cache.GetOrCreateAsync(stuck, default)).ModelVersion);
    }

    [Fact]
    public async Task OverTheByteBudget_LeastRecentlyAskedForEvictedAndDisposed_LoadedAgainWhenAskedFor()
    {
        // Room for any one of the two models, not for both.
        var budget = Math.Max(TestPackages.CreditRiskModel.Length, TestPackages.CustomerNotesModel.Length);
        using var cache = InferenceTestModels.NewCache(new InferenceOptions { IntraOpNumThreads = 1, MaxLoadedModelBytes = budget });
        var first = await InferenceTestModels.CreditRiskAsync(cache);

        var second = await InferenceTestModels.CustomerNotesAsync(cache);

        Assert.Equal(1, cache.Count);
        Assert.False(cache.TryGet(first.ManifestDigest, out _));
        Assert.True(cache.TryGet(second.ManifestDigest, out _));
        Assert.True(first.IsDisposed);
        Assert.False(second.IsDisposed);
        var again = await InferenceTestModels.CreditRiskAsync(cache);
        Assert.NotSame(first, again);
        Assert.True(second.IsDisposed);
    }

    /// <summary>
    /// Many versions asked for at once load one after another, each evicting what the budget has no room for before the
    /// next is fetched (side by side, every load held its bytes at once, whatever the budget).
    /// </summary>
    [Fact]
    public async Task ManyVersionsAtOnce_LoadedOneAtATime_WithinTheBudget()
    {
        using var cache = InferenceTestModels.NewCache(new InferenceOptions { IntraOpNumThreads = 1, MaxLoadedModelBytes = TestPackages.CreditRiskModel.Length });
        var loading = 0;
        var mostAtOnce = 0;

        var models = await Task.WhenAll(Enumerable.Range(1, 8).Select(v => Task.Run(() =>
        {
            var verified = InferenceTestModels.Verified(TestPackages.CreditRisk(CreditRiskSample.Name, v.ToString(System.Globalization.CultureInfo.InvariantCulture)), TestPackages.CreditRiskModel);
            return cache.GetOrCreateAsync(verified.Version, async _ =>
            {
                var now = Interlocked.Increment(ref loading);
                InterlockedMax(ref mostAtOnce, now);
                await Task.Delay(50, CancellationToken.None);
                Interlocked.Decrement(ref loading);
                return verified;
            }, default);
        })));

        Assert.Equal(1, mostAtOnce);
        Assert.Equal(1, cache.Count);
        Assert.Equal(7, models.Count(m => m.IsDisposed));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    [Fact]
    public async Task Evicted_WhileARunHoldsItsOutputs_DisposedOnlyWhenTheyAreReleased_ThenRefusedUntilLoadedAgain()
    {
        var budget = Math.Max(TestPackages.CreditRiskModel.Length, TestPackages.CustomerNotesModel.Length);
        using var cache = InferenceTestModels.NewCache(new InferenceOptions { IntraOpNumThreads = 1, MaxLoadedModelBytes = budget });
        var runner = new OnnxModelRunner(new Microsoft.Extensions.Logging.Testing.FakeLogger<OnnxModelRunner>());
        var first = await InferenceTestModels.CreditRiskAsync(cache);
        var input = new Core.Protocol.Tensor("features", Core.Protocol.TensorDataType.Fp32, [1, 4], new float[] { 0.2f, 0.1f, 0f, 18f });
        using var value = OrtTensors.Pin(input);
        var held = runner.Run(first, ["features"], [value], ["probabilities"], default);

        await InferenceTestModels.CustomerNotesAsync(cache);

        // Out of the cache, but its session lives while the run's outputs are held, and they read whole.
        Assert.False(cache.TryGet(first.ManifestDigest, out _));
        Assert.False(first.IsDisposed);

        // No new run starts on it meanwhile (a request queued for it, another batch loop: found in review, they ran on a
        // model evicted for failing re-attestation): refused as unavailable, the session kept for the run that holds it.
        var meanwhile = Assert.Throws<Core.Pipeline.RefusedException>(() => runner.Run(first, ["features"], [value], ["probabilities"], default));
        Assert.Equal(Core.Pipeline.RefusalKind.Unavailable, meanwhile.Refusal.Kind);
        Assert.False(first.IsDisposed);
        var probabilities = OrtTensors.FromOrtValue("probabilities", held[0]).As<float>().ToArray();
        Assert.Equal(1.0, probabilities.Sum(), 4);
        held.Dispose();
        Assert.True(first.IsDisposed);

        // A request that resolved it before the eviction is refused as unavailable (the gateway retries), not run on a
        // disposed session; asked for again, the version is loaded again and serves.
        var refused = Assert.Throws<Core.Pipeline.RefusedException>(() => runner.Run(first, ["features"], [value], ["probabilities"], default));
        Assert.Equal(Core.Pipeline.RefusalKind.Unavailable, refused.Refusal.Kind);
        var again = await InferenceTestModels.CreditRiskAsync(cache);
        var outputs = await runner.RunAsync(again, [input], null, default);
        Assert.Equal(probabilities, Assert.Single(outputs).As<float>().ToArray());
    }

    [Fact]
    public async Task Cuda_UnavailableWithoutFallback_FailsClosed()
    {
        using var cache = InferenceTestModels.NewCache(new InferenceOptions { ExecutionProvider = ExecutionProvider.Cuda });

        await Assert.ThrowsAsync<ExecutionProviderUnavailableException>(() => InferenceTestModels.CreditRiskAsync(cache));
    }

    [Fact]
    public async Task Cuda_UnavailableWithFallback_RunsOnCpu()
    {
        using var cache = InferenceTestModels.NewCache(new InferenceOptions { ExecutionProvider = ExecutionProvider.Cuda, AllowCpuFallback = true });

        var model = await InferenceTestModels.CreditRiskAsync(cache);

        Assert.Equal(ExecutionProvider.Cpu, model.ExecutionProvider);
    }
}
