using System.Diagnostics;
using System.Security.Cryptography;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs.Specialized;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>
/// The sink's tree heads and witness under storage faults, over Azurite: a head whose write errs but lands, a lost append
/// response on a long chain, and a witness store that stalls. None may fail the log, fail a request, or make an untouched
/// log fail verification.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlobAuditSinkFaultTests(AzuriteFixture azurite, ITestOutputHelper output) : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _witnessKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose()
    {
        _key.Dispose();
        _witnessKey.Dispose();
    }

    /// <summary>
    /// A head that is stored although its write answered an error (response lost): the next head must name it, or the
    /// verifier finds a head no later head names and reports it deleted (HeadMissing) on a log nobody touched.
    /// </summary>
    [Fact]
    public async Task HeadStoredButItsWriteErred_NextHeadNamesIt_VerifyOk()
    {
        var fault = new Fault(request => request.Method == RequestMethod.Put && request.Uri.Path.Contains("/" + AuditBlobNames.CheckpointsPrefix, StringComparison.Ordinal), afterSend: true);
        var container = azurite.GetContainer(configure: o => o.AddPolicy(fault, HttpPipelinePosition.PerCall));
        var sink = NewSink(container, AuditTestData.Options(_key, static o =>
        {
            o.CheckpointEvery = 1;
            o.GroupWindow = TimeSpan.Zero;
        }));
        await using (sink)
        {
            await sink.AppendAsync(AuditTestData.Event(1), CancellationToken.None);
            await WaitForAsync(() => container.GetBlobClient(AuditBlobNames.Checkpoint(sink.WriterId, 1)).Exists().Value);
            fault.Arm();
            await sink.AppendAsync(AuditTestData.Event(2), CancellationToken.None);
            await WaitForAsync(() => fault.Injected == 1);
            await sink.AppendAsync(AuditTestData.Event(3), CancellationToken.None);
            await sink.AppendAsync(AuditTestData.Event(4), CancellationToken.None);
        }

        Assert.True(await container.GetBlobClient(AuditBlobNames.Checkpoint(sink.WriterId, 2)).ExistsAsync());
        var report = await AuditVerifier.VerifyAsync(container, [_key], CancellationToken.None);
        var chain = Assert.Single(report.Chains);
        Assert.True(report.Ok, chain.Failure?.ToString());
        Assert.Equal(4, chain.LastCheckpointSeq);
    }

    /// <summary>
    /// A head whose write erred and is not stored when read back, but lands later (held in the network): the sink writes
    /// that same head again before a newer one, so the late copy finds its own bytes there and the newer head names
    /// it. Found in review 2026-12-07: the head was dropped at the read-back, the newer head named the one before it, and
    /// the late copy then read as a deleted head (HeadMissing) on a log nobody touched.
    /// </summary>
    [Fact]
    public async Task HeadWriteErred_NotStored_LandsLate_NextHeadNamesIt_VerifyOk()
    {
        var held = new HeldWrite(static request => request.Method == RequestMethod.Put
            && request.Uri.Path.Contains("/" + AuditBlobNames.CheckpointsPrefix, StringComparison.Ordinal)
            && request.Uri.Path.EndsWith("/000000000002.json", StringComparison.Ordinal));
        var container = azurite.GetContainer(configure: o => o.AddPolicy(held, HttpPipelinePosition.PerCall));
        var sink = NewSink(container, AuditTestData.Options(_key, static o =>
        {
            o.CheckpointEvery = 1;
            o.GroupWindow = TimeSpan.Zero;
        }));
        string writer;
        await using (sink)
        {
            writer = sink.WriterId;
            await sink.AppendAsync(AuditTestData.Event(1), CancellationToken.None);
            await sink.AppendAsync(AuditTestData.Event(2), CancellationToken.None);
            await WaitForAsync(() => held.Body is not null);
            await sink.AppendAsync(AuditTestData.Event(3), CancellationToken.None);
            await sink.AppendAsync(AuditTestData.Event(4), CancellationToken.None);
        }

        // The held write lands now, after every later head: it finds the head already there (the same bytes), or, on a
        // sink that dropped it, fills the hole that the later heads skipped.
        try
        {
            await container.GetBlobClient(AuditBlobNames.Checkpoint(writer, 2)).UploadAsync(new BinaryData(held.Body!), new Azure.Storage.Blobs.Models.BlobUploadOptions
            {
                Conditions = new Azure.Storage.Blobs.Models.BlobRequestConditions { IfNoneMatch = Azure.ETag.All },
            });
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
        }

        var report = await AuditVerifier.VerifyAsync(container, [_key], CancellationToken.None);
        var chain = Assert.Single(report.Chains);
        Assert.True(report.Ok, chain.Failure?.ToString());
        Assert.Equal(4, chain.LastCheckpointSeq);
    }

    /// <summary>
    /// A batch let go under the cap (the oldest of three, with room for two) that lands late after all: the chain is the
    /// writer's own, taken in, and the writer goes on. Found in review of the cap (2026-12-07): it read as someone else's
    /// appends, and the writer stopped for good.
    /// </summary>
    [Fact]
    public async Task UncertainBatchLetGo_LandsLate_TakenAsItsOwn_TheWriterGoesOn()
    {
        var held = new AppendsHeld();
        var (container, sink) = SinkWithAppendsHeld(held, uncertainCap: 2);
        await using (sink)
        {
            await sink.AppendAsync(AuditTestData.Event(1), CancellationToken.None);
            held.Armed = true;
            for (var i = 2; i <= 4; i++)
            {
                await Assert.ThrowsAnyAsync<Exception>(() => sink.AppendAsync(AuditTestData.Event(i), CancellationToken.None).AsTask());
            }

            Assert.Equal(2, sink.UncertainBatches);
            held.Armed = false;
            var (uri, position, body) = held.Requests[0];
            await new Azure.Storage.Blobs.Specialized.AppendBlobClient(azurite.ConnectionString, container.Name, Uri.UnescapeDataString(uri.AbsolutePath.Split('/', 3)[2][(container.Name.Length + 1)..]))
                .AppendBlockAsync(new MemoryStream(body), new Azure.Storage.Blobs.Models.AppendBlobAppendBlockOptions { Conditions = new Azure.Storage.Blobs.Models.AppendBlobRequestConditions { IfAppendPositionEqual = position } });

            // The next append finds the chain moved by that batch: refused once (its own position was taken), then on.
            await Assert.ThrowsAnyAsync<Exception>(() => sink.AppendAsync(AuditTestData.Event(5), CancellationToken.None).AsTask());
            await sink.AppendAsync(AuditTestData.Event(6), CancellationToken.None);
        }

        var report = await AuditVerifier.VerifyAsync(container, [_key], CancellationToken.None);
        Assert.True(report.Ok, report.Chains[0].Failure?.ToString());
        Assert.Equal(3, report.RecordsChecked);
    }

    /// <summary>
    /// Appends that fail on and on while reads succeed (a lost write permission, a retention policy refusing appends):
    /// each group's batch may still land, but at most <see cref="BlobAuditSink.MaxUncertain"/> are kept. Found in review
    /// 2026-12-07: the head never moved, every batch stayed at its position, and the list grew without bound. Once
    /// appends work again the chain goes on and verifies.
    /// </summary>
    [Fact]
    public async Task AppendsFailOnAndOn_ReadsSucceed_UncertainBatchesBounded_ThenTheChainGoesOn()
    {
        var held = new AppendsHeld();
        var (container, sink) = SinkWithAppendsHeld(held, BlobAuditSink.MaxUncertain);
        await using (sink)
        {
            await sink.AppendAsync(AuditTestData.Event(1), CancellationToken.None);
            held.Armed = true;
            for (var i = 0; i < BlobAuditSink.MaxUncertain + 10; i++)
            {
                await Assert.ThrowsAnyAsync<Exception>(() => sink.AppendAsync(AuditTestData.Event(2), CancellationToken.None).AsTask());
            }

            Assert.Equal(BlobAuditSink.MaxUncertain, sink.UncertainBatches);
            held.Armed = false;
            await sink.AppendAsync(AuditTestData.Event(3), CancellationToken.None);
        }

        var report = await AuditVerifier.VerifyAsync(container, [_key], CancellationToken.None);
        Assert.True(report.Ok, report.Chains[0].Failure?.ToString());
        Assert.Equal(2, report.RecordsChecked);
    }

    /// <summary>
    /// An append stored whose response was lost, on a chain of many segments: the resync reads the tail and takes the
    /// batch's own leaves, not every segment of the chain (which, on a writer's long chain, held the commit loop for as
    /// long as reading it all takes while every request waited).
    /// </summary>
    [Fact]
    public async Task AppendResponseLost_OnALongChain_ResyncReadsOnlyTheTail()
    {
        var appendLost = new Fault(static request => request.Uri.Query.Contains("comp=appendblock", StringComparison.Ordinal), afterSend: true);
        var downloads = new Fault(static request => request.Method == RequestMethod.Get && request.Uri.Path.Contains("/" + AuditBlobNames.ChainsPrefix, StringComparison.Ordinal), afterSend: false, count: true);
        var container = azurite.GetContainer(configure: o =>
        {
            o.AddPolicy(appendLost, HttpPipelinePosition.PerCall);
            o.AddPolicy(downloads, HttpPipelinePosition.PerCall);
        });
        var sink = NewSink(container, AuditTestData.Options(_key, static o =>
        {
            o.SegmentMaxRecords = 5;
            o.GroupWindow = TimeSpan.Zero;
        }));
        await using (sink)
        {
            for (var i = 1; i <= 40; i++)
            {
                await sink.AppendAsync(AuditTestData.Event(i), CancellationToken.None);
            }

            downloads.Arm();
            appendLost.Arm();
            await sink.AppendAsync(AuditTestData.Event(41), CancellationToken.None);
            Assert.Equal(1, appendLost.Injected);
            Assert.Equal(1, downloads.Counted); // the last segment, where the tail is: not the 9 segments of the chain
            await sink.AppendAsync(AuditTestData.Event(42), CancellationToken.None);
        }

        var report = await AuditVerifier.VerifyAsync(container, [_key], CancellationToken.None);
        var chain = Assert.Single(report.Chains);
        Assert.True(report.Ok, chain.Failure?.ToString());
        Assert.Equal(42, chain.LastSeq);
        Assert.Equal(42, chain.LastCheckpointSeq);
    }

    /// <summary>
    /// A witness store that takes 6 s to answer holds no record: each commits within a caller's 2 s, and once the witness
    /// answers again it gets every head, in order.
    /// </summary>
    [Fact]
    public async Task WitnessStalls_RecordsCommitInTime_AndTheWitnessCatchesUp()
    {
        var stall = new Fault(static _ => true, afterSend: false, delay: TimeSpan.FromSeconds(6));
        var log = azurite.GetContainer();
        var witness = azurite.GetContainer(configure: o => o.AddPolicy(stall, HttpPipelinePosition.PerCall));
        var sink = NewSink(log, AuditTestData.Options(_key, o =>
        {
            o.CheckpointEvery = 1;
            o.GroupWindow = TimeSpan.Zero;
            o.Witness = new AuditWitnessOptions { ContainerClient = witness, Key = _witnessKey };
        }));
        await using (sink)
        {
            await sink.AppendAsync(AuditTestData.Event(1), CancellationToken.None);
            stall.Arm(sticky: true);
            for (var i = 2; i <= 6; i++)
            {
                using var callerGivesUp = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await sink.AppendAsync(AuditTestData.Event(i), callerGivesUp.Token);
            }

            stall.Disarm();
        }

        var report = await AuditVerifier.VerifyAsync(log, new AuditVerificationOptions { TrustedCheckpointKeys = [_key], Witness = witness, TrustedWitnessKeys = [_witnessKey] }, CancellationToken.None);
        var chain = Assert.Single(report.Chains);
        Assert.True(report.Ok, chain.Failure?.ToString());
        Assert.Equal(6, chain.WitnessedSeq);
        Assert.True(await witness.GetBlobClient(AuditBlobNames.WitnessHead(sink.WriterId, 1)).ExistsAsync());
    }

    /// <summary>
    /// A writer that continues its chain (a stable id) after records were cut from its end: the chain is shorter than its
    /// own latest signed head, so the writer refuses to write (new records would take seqs a head already covers), as it
    /// does when records it committed itself disappear.
    /// </summary>
    [Fact]
    public async Task StableWriterRestarts_OnAChainCutBelowItsLatestHead_RefusesToWrite()
    {
        var container = azurite.GetContainer();
        var writerId = await AuditTestData.WriteChainAsync(container, _key, 20, static o => o.CheckpointEvery = 10);
        await AuditTestData.RewriteAsync(container, AuditBlobNames.Segment(writerId, 0), static lines => lines.Take(5).ToList());

        var sink = NewSink(container, AuditTestData.Options(_key, o => o.WriterId = writerId));
        await using (sink)
        {
            await Assert.ThrowsAsync<AuditUnavailableException>(() => sink.AppendAsync(AuditTestData.Event(21), CancellationToken.None).AsTask());
        }

        Assert.Equal(5, (await AuditTestData.ReadLinesAsync(container, AuditBlobNames.Segment(writerId, 0))).Count);
    }

    /// <summary>
    /// Someone with write access to the audit container (no key needed) appends well-chained records to a live writer's
    /// segment. The writer's next append fails on its condition and it re-reads the tail: it must not take the forged
    /// records in, or its next signed, witnessed head covers them and the verifier passes them (found in review: it
    /// rebuilt its tree from the stored chain and went on).
    /// </summary>
    [Fact]
    public async Task ForgedRecordsAppendedUnderALiveWriter_RefusedNeverSigned()
    {
        var container = azurite.GetContainer();
        var sink = NewSink(container, AuditTestData.Options(_key, static o =>
        {
            o.CheckpointEvery = 1;
            o.GroupWindow = TimeSpan.Zero;
        }));
        await using (sink)
        {
            for (var i = 1; i <= 5; i++)
            {
                await sink.AppendAsync(AuditTestData.Event(i), CancellationToken.None);
            }

            var segment = AuditBlobNames.Segment(sink.WriterId, 0);
            var lines = await AuditTestData.ReadLinesAsync(container, segment);
            Assert.True(AuditRecord.TryParse(System.Text.Encoding.UTF8.GetBytes(lines[^1]), out var last, out _));
            var prev = last!.Hash;
            using var forged = new MemoryStream();
            for (var seq = 6; seq <= 8; seq++)
            {
                var record = AuditRecord.Create(AuditTestData.Event(100 + seq), sink.WriterId, seq, prev);
                forged.Write(record.ToJsonLine());
                prev = record.Hash;
            }

            forged.Position = 0;
            await container.GetAppendBlobClient(segment).AppendBlockAsync(forged);

            // The append built on seq 5 fails its condition; every one after it is refused too, never written on top.
            for (var i = 9; i <= 10; i++)
            {
                await Assert.ThrowsAsync<AuditUnavailableException>(() => sink.AppendAsync(AuditTestData.Event(i), CancellationToken.None).AsTask());
            }
        }

        Assert.Equal(8, (await AuditTestData.ReadLinesAsync(container, AuditBlobNames.Segment(sink.WriterId, 0))).Count);
        foreach (var seq in new long[] { 8, 9 })
        {
            Assert.False(await container.GetBlobClient(AuditBlobNames.Checkpoint(sink.WriterId, seq)).ExistsAsync());
        }
    }

    /// <summary>
    /// Someone with write access rewrites the last record a live writer committed (same seq, other content, a hash
    /// that matches it). The writer's next append fails on its condition and it re-reads the tail: the same seq with
    /// another hash is not its record, so it writes nothing on top (found in review 2026-12-07: only the seq was
    /// compared, and the writer chained on the rewrite).
    /// </summary>
    [Fact]
    public async Task LastCommittedRecordRewritten_RefusedNeverChainedOn()
    {
        var container = azurite.GetContainer();
        var sink = NewSink(container, AuditTestData.Options(_key, static o => o.GroupWindow = TimeSpan.Zero));
        await using (sink)
        {
            for (var i = 1; i <= 5; i++)
            {
                await sink.AppendAsync(AuditTestData.Event(i), CancellationToken.None);
            }

            var segment = AuditBlobNames.Segment(sink.WriterId, 0);
            await AuditTestData.RewriteAsync(container, segment, lines =>
            {
                Assert.True(AuditRecord.TryParse(System.Text.Encoding.UTF8.GetBytes(lines[3]), out var fourth, out _));
                var forged = AuditRecord.Create(AuditTestData.Event(5) with { RequestId = "req-5-rewritten" }, sink.WriterId, 5, fourth!.Hash);
                return [.. lines.Take(4), System.Text.Encoding.UTF8.GetString(forged.ToJsonLine()).TrimEnd('\n')];
            });

            for (var i = 6; i <= 7; i++)
            {
                await Assert.ThrowsAsync<AuditUnavailableException>(() => sink.AppendAsync(AuditTestData.Event(i), CancellationToken.None).AsTask());
            }
        }

        var stored = await AuditTestData.ReadLinesAsync(container, AuditBlobNames.Segment(sink.WriterId, 0));
        Assert.Equal(5, stored.Count);
        Assert.Contains("req-5-rewritten", stored[4], StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting for the sink");
            await Task.Delay(20);
        }
    }

    // A started sink whose appends fail while held.Armed (reads work), the breaker never opening, no client retries.
    private (Azure.Storage.Blobs.BlobContainerClient Container, BlobAuditSink Sink) SinkWithAppendsHeld(AppendsHeld held, int uncertainCap)
    {
        var container = azurite.GetContainer(configure: o =>
        {
            o.AddPolicy(held, HttpPipelinePosition.PerCall);
            o.Retry.MaxRetries = 0;
        });
        var sink = new BlobAuditSink(container, AuditTestData.Options(_key, static o => (o.GroupWindow, o.BreakAfterFailures) = (TimeSpan.Zero, 1000)), new TestOutputLogger<BlobAuditSink>(output), TimeProvider.System)
        {
            UncertainCap = uncertainCap,
        };
        sink.Start();
        return (container, sink);
    }

    private BlobAuditSink NewSink(Azure.Storage.Blobs.BlobContainerClient container, AuditOptions options)
    {
        var sink = new BlobAuditSink(container, options, new TestOutputLogger<BlobAuditSink>(output), TimeProvider.System);
        sink.Start();
        return sink;
    }

    /// <summary>While armed, every append is not sent: its blob, append position and body are kept (to land late) and it errs.</summary>
    private sealed class AppendsHeld : HttpPipelinePolicy
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(Uri Uri, long Position, byte[] Body)> _requests = new();

        public bool Armed { get; set; }

        public IReadOnlyList<(Uri Uri, long Position, byte[] Body)> Requests => [.. _requests];

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (Armed && message.Request.Method == RequestMethod.Put && message.Request.Uri.Query.Contains("comp=appendblock", StringComparison.Ordinal))
            {
                using var body = new MemoryStream();
                await message.Request.Content!.WriteToAsync(body, message.CancellationToken);
                var position = message.Request.Headers.TryGetValue("x-ms-blob-condition-appendpos", out var value) ? long.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : 0;
                _requests.Enqueue((message.Request.Uri.ToUri(), position, body.ToArray()));
                throw new IOException("injected: the append is held in the network and may land later");
            }

            await ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>The first matching request is not sent: its body is kept (to be delivered late by the test) and it errs.</summary>
    private sealed class HeldWrite(Func<Request, bool> matches) : HttpPipelinePolicy
    {
        private int _held;

        public byte[]? Body { get; private set; }

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            if (matches(message.Request) && Interlocked.Exchange(ref _held, 1) == 0)
            {
                using var body = new MemoryStream();
                await message.Request.Content!.WriteToAsync(body, message.CancellationToken);
                Body = body.ToArray();
                throw new IOException("injected: the write is held in the network and will land later");
            }

            await ProcessNextAsync(message, pipeline);
        }
    }

    /// <summary>
    /// A fault on the requests <paramref name="matches"/> picks, once armed: an error after the request was sent (its
    /// response lost), an error before, a delay, or only a count.
    /// </summary>
    private sealed class Fault(Func<Request, bool> matches, bool afterSend, TimeSpan? delay = null, bool count = false) : HttpPipelinePolicy
    {
        private int _armed;
        private int _sticky;
        private int _injected;

        public int Injected => Volatile.Read(ref _injected);

        public int Counted => Volatile.Read(ref _injected);

        public void Arm(bool sticky = false)
        {
            Interlocked.Exchange(ref _sticky, sticky || count ? 1 : 0);
            Interlocked.Exchange(ref _armed, 1);
        }

        public void Disarm() => Interlocked.Exchange(ref _armed, 0);

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var hit = matches(message.Request) && (Volatile.Read(ref _sticky) == 1 ? Volatile.Read(ref _armed) == 1 : Interlocked.Exchange(ref _armed, 0) == 1);
            if (hit)
            {
                Interlocked.Increment(ref _injected);
            }

            if (hit && delay is { } wait)
            {
                await Task.Delay(wait, message.CancellationToken);
            }

            if (hit && !afterSend && !count && delay is null)
            {
                throw new IOException("injected: connection reset before the request was sent");
            }

            await ProcessNextAsync(message, pipeline);
            if (hit && afterSend)
            {
                throw new IOException("injected: response lost after the request was stored");
            }
        }
    }
}
