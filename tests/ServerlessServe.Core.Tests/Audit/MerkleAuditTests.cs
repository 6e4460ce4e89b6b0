using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>
/// The Merkle audit log against tampering, over Azurite: signed tree heads, their prevHead chain, consistency proofs and
/// the independent witness. Each attack is done as someone with full access to the log's container (not to the keys or
/// the witness store) would do it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MerkleAuditTests(AzuriteFixture azurite) : IDisposable
{
    private const int Records = 60;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _witnessKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose()
    {
        _key.Dispose();
        _witnessKey.Dispose();
    }

    [Fact]
    public async Task Verify_Untampered_OkWithEveryHeadWitnessed()
    {
        var (log, witness, writer) = await WriteAsync();

        var report = await VerifyAsync(log, witness);

        var chain = Assert.Single(report.Chains);
        Assert.True(report.Ok, chain.Failure?.ToString());
        Assert.Equal(Records, chain.LastCheckpointSeq);
        Assert.Equal(Records, chain.WitnessedSeq);
        Assert.Equal(7, chain.CheckpointsChecked); // 1, 11, 21, …, 51 and 60 (dispose)
        AuditCheckpoint.TryParse((await log.GetBlobClient(AuditBlobNames.Checkpoint(writer, 21)).DownloadContentAsync()).Value.Content.ToArray(), out var head);
        Assert.True(head!.IsTreeHead);
        Assert.True(await witness.GetBlobClient(AuditBlobNames.WitnessHead(writer, 21)).ExistsAsync());
    }

    [Fact]
    public async Task Verify_RewrittenFromSeq14WithLaterHeadsDeleted_WitnessAheadAndLongTail()
    {
        var (log, witness, writer) = await WriteAsync();
        await RewriteFromAsync(log, writer, 14);
        await DeleteHeadsAsync(log, writer, static seq => seq > 13);

        // What the red team showed: the log alone still looks like a writer that stopped after seq 60 with its heads at 1 and 11.
        var alone = await AuditVerifier.VerifyAsync(log, [_key], CancellationToken.None);
        Assert.True(alone.Ok, alone.Chains[0].Failure?.ToString());

        var failure = await SingleFailureAsync(log, witness);
        Assert.Equal(AuditFailureKind.WitnessAhead, failure.Kind);
        Assert.Equal(12, failure.Seq);

        // Without a witness, a tail bound that fits the writer's schedule (a head every 10 records) catches it too.
        var bounded = await AuditVerifier.VerifyAsync(log, new AuditVerificationOptions { TrustedCheckpointKeys = [_key], MaxUnanchoredRecords = 10 }, CancellationToken.None);
        Assert.Equal(AuditFailureKind.UnanchoredTail, bounded.Chains[0].Failure!.Kind);
    }

    [Fact]
    public async Task Verify_TruncatedToAnOlderHead_WitnessAhead()
    {
        var (log, witness, writer) = await WriteAsync();
        await AuditTestData.RewriteAsync(log, AuditBlobNames.Segment(writer, 0), static lines => lines.Take(21).ToList());
        await DeleteHeadsAsync(log, writer, static seq => seq > 21);

        var failure = await SingleFailureAsync(log, witness);

        Assert.Equal(AuditFailureKind.WitnessAhead, failure.Kind);
        Assert.Contains("tree size 60", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_WitnessHeadDisagrees_WitnessMismatch()
    {
        var (log, witness, writer) = await WriteAsync();
        var name = AuditBlobNames.WitnessHead(writer, 31);
        AuditWitnessHead.TryParse((await witness.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray(), out var genuine);

        // A head of a forked log at the same size: validly signed by the log key and countersigned by the witness key.
        var forked = AuditCheckpoint.CreateTreeHead(writer, 31, genuine!.Head.Hash, new string('e', 64), genuine.Head.PrevHead!, genuine.Head.Time, _key);
        await witness.GetBlobClient(name).UploadAsync(new BinaryData(AuditWitnessHead.Create(forked, _witnessKey).ToJson()), overwrite: true);

        var failure = await SingleFailureAsync(log, witness);

        Assert.Equal(new AuditFailure(AuditFailureKind.WitnessMismatch, 31, witness.Name + "/" + name, null, failure.Detail), failure);
    }

    [Fact]
    public async Task Verify_WitnessHeadNotCountersignedByTrustedWitnessKey_BadCheckpointSignature()
    {
        var (log, witness, writer) = await WriteAsync();
        var name = AuditBlobNames.WitnessHead(writer, 31);
        AuditWitnessHead.TryParse((await witness.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToArray(), out var genuine);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await witness.GetBlobClient(name).UploadAsync(new BinaryData(AuditWitnessHead.Create(genuine!.Head, other).ToJson()), overwrite: true);

        var failure = await SingleFailureAsync(log, witness);

        Assert.Equal(AuditFailureKind.BadCheckpointSignature, failure.Kind);
        Assert.Contains("witness", failure.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_LeafSwappedAndChainRehashed_InconsistentAtTheNextHead()
    {
        var (log, witness, writer) = await WriteAsync();

        // Record 15 replaced by another (its outcome changed), every later hash and link recomputed: the hash chain is
        // self-consistent again and every head stays, so only the Merkle roots can tell.
        await RewriteFromAsync(log, writer, 15);

        var failure = await SingleFailureAsync(log, witness);

        Assert.Equal(AuditFailureKind.Inconsistent, failure.Kind);
        Assert.Equal(21, failure.Seq);
        Assert.EndsWith("000000000021.json", failure.Blob, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_MiddleHeadDeleted_HeadMissing()
    {
        var (log, witness, writer) = await WriteAsync();
        await DeleteHeadsAsync(log, writer, static seq => seq == 21);

        var failure = await SingleFailureAsync(log, witness);

        Assert.Equal(AuditFailureKind.HeadMissing, failure.Kind);
        Assert.Equal(31, failure.Seq);
    }

    [Fact]
    public async Task Verify_WholeWriterDeleted_WitnessAhead()
    {
        var (log, witness, writer) = await WriteAsync();
        await AuditTestData.WriteChainAsync(log, _key, 3, o => o.Witness = WitnessOptions(witness));
        await foreach (var item in log.GetBlobsAsync(BlobTraits.None, BlobStates.None, null, CancellationToken.None))
        {
            if (item.Name.Contains("/" + writer + "/", StringComparison.Ordinal))
            {
                await log.GetBlobClient(item.Name).DeleteAsync();
            }
        }

        var report = await VerifyAsync(log, witness);

        Assert.False(report.Ok);
        var gone = Assert.Single(report.Chains, c => c.WriterId == writer);
        Assert.Equal(AuditFailureKind.WitnessAhead, gone.Failure!.Kind);
    }

    [Fact]
    public async Task Verify_LatestHeadNeverWitnessed_UnwitnessedAfterTheLag()
    {
        var log = azurite.GetContainer();
        var witness = azurite.GetContainer();
        await AuditTestData.WriteChainAsync(log, _key, 5); // no witness configured

        var report = await AuditVerifier.VerifyAsync(log, new AuditVerificationOptions
        {
            TrustedCheckpointKeys = [_key],
            Witness = witness,
            TrustedWitnessKeys = [_witnessKey],
            WitnessLag = TimeSpan.Zero,
        }, CancellationToken.None);

        Assert.Equal(AuditFailureKind.Unwitnessed, report.Chains[0].Failure!.Kind);
    }

    [Fact]
    public async Task Sink_RestartedWithSameWriterId_ContinuesTreeAndHeadChain()
    {
        var log = azurite.GetContainer();
        var witness = azurite.GetContainer();
        var writer = "restart-" + Guid.NewGuid().ToString("N")[..8];
        for (var run = 0; run < 2; run++)
        {
            var options = AuditTestData.Options(_key, o =>
            {
                o.WriterId = writer;
                o.CheckpointEvery = 4;
                o.Witness = WitnessOptions(witness);
            });
            await using var sink = new BlobAuditSink(log, options, new FakeLogger<BlobAuditSink>(), TimeProvider.System);
            sink.Start();
            for (var i = 1; i <= 9; i++)
            {
                await sink.AppendAsync(AuditTestData.Event((run * 9) + i), CancellationToken.None);
            }
        }

        var report = await VerifyAsync(log, witness);

        var chain = Assert.Single(report.Chains);
        Assert.True(report.Ok, chain.Failure?.ToString());
        Assert.Equal(18, chain.LastCheckpointSeq);
        Assert.Equal(18, chain.WitnessedSeq);
    }

    [Fact]
    public async Task Sink_WitnessUnreachable_RequestsStillCommitAndVerifyReportsIt()
    {
        var log = azurite.GetContainer();
        var unreachable = azurite.GetContainer(configure: static o => o.Retry.MaxRetries = 0, blobPort: Loopback.ClosedPort());
        var writer = await AuditTestData.WriteChainAsync(log, _key, 5, o => o.Witness = WitnessOptions(unreachable));

        var report = await AuditVerifier.VerifyAsync(log, new AuditVerificationOptions
        {
            TrustedCheckpointKeys = [_key],
            Witness = azurite.GetContainer(),
            TrustedWitnessKeys = [_witnessKey],
            WitnessLag = TimeSpan.Zero,
        }, CancellationToken.None);

        var chain = Assert.Single(report.Chains);
        Assert.Equal(writer, chain.WriterId);
        Assert.Equal(5, chain.RecordsChecked);
        Assert.Equal(AuditFailureKind.Unwitnessed, chain.Failure!.Kind);
    }

    [Fact]
    public async Task Verify_OldFormatCheckpoints_StillVerify()
    {
        var log = azurite.GetContainer();
        var writer = await AuditTestData.WriteChainAsync(log, _key, 30, static o => o.CheckpointEvery = 10);
        var lines = await AuditTestData.ReadLinesAsync(log, AuditBlobNames.Segment(writer, 0));
        await foreach (var item in log.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.CheckpointPrefix(writer), CancellationToken.None))
        {
            AuditBlobNames.TryParseCheckpoint(item.Name, out _, out var seq);
            AuditRecord.TryParse(Encoding.UTF8.GetBytes(lines[(int)seq - 1]), out var record, out _);
            var plain = AuditCheckpoint.Create(writer, seq, record!.Hash, AuditTestData.BaseTime, _key);
            await log.GetBlobClient(item.Name).UploadAsync(new BinaryData(plain.ToJson()), overwrite: true);
        }

        var report = await AuditVerifier.VerifyAsync(log, [_key], CancellationToken.None);

        Assert.True(report.Ok, report.Chains[0].Failure?.ToString());
        Assert.Equal(4, report.Chains[0].CheckpointsChecked);
    }

    private AuditWitnessOptions WitnessOptions(BlobContainerClient witness) => new() { ContainerClient = witness, Key = _witnessKey };

    /// <summary>60 records in one segment; heads at 1 (first group), 11, 21, …, 51 and 60 (dispose), each witnessed.</summary>
    private async Task<(BlobContainerClient Log, BlobContainerClient Witness, string Writer)> WriteAsync()
    {
        var log = azurite.GetContainer();
        var witness = azurite.GetContainer();
        var writer = await AuditTestData.WriteChainAsync(log, _key, Records, o =>
        {
            o.CheckpointEvery = 10;
            o.Witness = WitnessOptions(witness);
        });
        return (log, witness, writer);
    }

    private Task<AuditVerificationReport> VerifyAsync(BlobContainerClient log, BlobContainerClient witness) =>
        AuditVerifier.VerifyAsync(log, new AuditVerificationOptions { TrustedCheckpointKeys = [_key], Witness = witness, TrustedWitnessKeys = [_witnessKey] }, CancellationToken.None);

    private async Task<AuditFailure> SingleFailureAsync(BlobContainerClient log, BlobContainerClient witness)
    {
        var report = await VerifyAsync(log, witness);
        Assert.False(report.Ok);
        var chain = Assert.Single(report.Chains);
        return chain.Failure!;
    }

    /// <summary>Changes record <paramref name="fromSeq"/> and recomputes every hash and link from there on.</summary>
    private static Task RewriteFromAsync(BlobContainerClient log, string writer, int fromSeq) =>
        AuditTestData.RewriteAsync(log, AuditBlobNames.Segment(writer, 0), lines =>
        {
            var records = lines.Select(static l =>
            {
                AuditRecord.TryParse(Encoding.UTF8.GetBytes(l), out var r, out _);
                return r!;
            }).ToList();
            records[fromSeq - 1] = records[fromSeq - 1] with { Outcome = "forbidden" };
            for (var i = fromSeq - 1; i < records.Count; i++)
            {
                var linked = records[i] with { Prev = i == 0 ? AuditRecord.GenesisHash : records[i - 1].Hash };
                records[i] = linked with { Hash = linked.ComputeHash() };
            }

            return records.Select(static r => Encoding.ASCII.GetString(r.ToJsonLine()).TrimEnd('\n')).ToList();
        });

    private static async Task DeleteHeadsAsync(BlobContainerClient log, string writer, Func<long, bool> which)
    {
        await foreach (var item in log.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.CheckpointPrefix(writer), CancellationToken.None))
        {
            if (AuditBlobNames.TryParseCheckpoint(item.Name, out _, out var seq) && which(seq))
            {
                await log.GetBlobClient(item.Name).DeleteAsync();
            }
        }
    }
}
