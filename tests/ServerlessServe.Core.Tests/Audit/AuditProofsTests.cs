using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>Inclusion proofs of committed records (the core of receipts), over Azurite, checked offline.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditProofsTests(AzuriteFixture azurite) : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _key.Dispose();

    [Fact]
    public async Task ProveAsync_CommittedRecordUnderAHead_ProofVerifiesOfflineAndCoversTheRecord()
    {
        var log = azurite.GetContainer();
        var leaves = new List<AuditLeaf>();
        await using (var sink = new BlobAuditSink(log, AuditTestData.Options(_key, static o => o.CheckpointEvery = 7), new FakeLogger<BlobAuditSink>(), TimeProvider.System))
        {
            sink.Start();
            for (var i = 1; i <= 23; i++)
            {
                leaves.Add(await sink.AppendForReceiptAsync(AuditTestData.Event(i), CancellationToken.None));
            }
        }

        Assert.Equal(Enumerable.Range(1, 23).Select(static i => (long)i), leaves.Select(static l => l.Seq));
        var proofs = new AuditProofs(log);
        foreach (var leaf in leaves)
        {
            var proof = await proofs.ProveAsync(leaf.WriterId, leaf.Seq, CancellationToken.None);
            Assert.NotNull(proof);
            Assert.Equal(leaf.LeafHash, proof.LeafHash);
            Assert.True(AuditInclusionProof.TryParse(proof.ToJson(), out var parsed));
            Assert.True(parsed!.Verify([_key], out var error), error);
            Assert.Equal(23, parsed.TreeSize); // the latest head (dispose)
        }

        var found = await proofs.ProveRequestAsync("req-5", CancellationToken.None);
        Assert.NotNull(found);
        Assert.Equal(5, found.Value.Record.Seq);
        Assert.True(found.Value.Proof!.Covers(found.Value.Record));
        Assert.False(found.Value.Proof.Covers(found.Value.Record with { Outcome = "forbidden" }));
        Assert.Null(await proofs.ProveRequestAsync("req-404", CancellationToken.None));
    }

    [Fact]
    public async Task Verify_TamperedProofOrUntrustedKey_Fails()
    {
        var log = azurite.GetContainer();
        var writer = await AuditTestData.WriteChainAsync(log, _key, 12);
        var proof = (await new AuditProofs(log).ProveAsync(writer, 6, CancellationToken.None))!;
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.True(proof.Verify([_key], out _));
        Assert.False(proof.Verify([other], out var untrusted));
        Assert.Contains("trusted", untrusted, StringComparison.Ordinal);
        Assert.False((proof with { Seq = 7 }).Verify([_key], out _));
        Assert.False((proof with { LeafHash = new string('f', 64) }).Verify([_key], out _));
        Assert.False((proof with { Path = [.. proof.Path.Take(proof.Path.Count - 1), new string('0', 64)] }).Verify([_key], out _));
        Assert.False((proof with { TreeSize = 11 }).Verify([_key], out _));
    }

    /// <summary>
    /// A head planted in storage with the right root and a wrong signature is passed over for the next head that
    /// verifies under the checkpoint key. Before 2026-12-07 it became the head every proof of the writer named, and each
    /// proof then failed offline.
    /// </summary>
    [Fact]
    public async Task ProveAsync_HeadWithAWrongSignature_PassedOver()
    {
        var log = azurite.GetContainer();
        var writer = await AuditTestData.WriteChainAsync(log, _key, 12, static o => o.CheckpointEvery = 5);
        var heads = new List<long>();
        await foreach (var item in log.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, AuditBlobNames.CheckpointPrefix(writer), CancellationToken.None))
        {
            Assert.True(AuditBlobNames.TryParseCheckpoint(item.Name, out _, out var size));
            heads.Add(size);
        }

        var latest = log.GetBlobClient(AuditBlobNames.Checkpoint(writer, heads.Max()));
        var stored = (await latest.DownloadContentAsync()).Value.Content.ToString();
        var signature = System.Text.RegularExpressions.Regex.Match(stored, "\"sig\":\"([^\"]+)\"").Groups[1].Value;
        await latest.UploadAsync(BinaryData.FromString(stored.Replace(signature, Convert.ToBase64String(new byte[64]), StringComparison.Ordinal)), overwrite: true);

        var unverified = (await new AuditProofs(log).ProveAsync(writer, 3, CancellationToken.None))!;
        using var publicKey = ECDsa.Create(_key.ExportParameters(false));
        var proof = (await new AuditProofs(log, publicKey).ProveAsync(writer, 3, CancellationToken.None))!;

        Assert.True(heads.Count >= 2, string.Join(",", heads));
        Assert.False(unverified.Verify([_key], out _));
        Assert.True(proof.Verify([_key], out var error), error);
        Assert.True(proof.TreeSize < heads.Max());
    }

    [Fact]
    public async Task ProveAsync_RecordNotYetUnderAHead_Null()
    {
        var log = azurite.GetContainer();
        var options = AuditTestData.Options(_key, static o =>
        {
            o.CheckpointEvery = 1000;
            o.CheckpointInterval = TimeSpan.FromHours(1);
        });
        await using var sink = new BlobAuditSink(log, options, new FakeLogger<BlobAuditSink>(), TimeProvider.System);
        sink.Start();
        var first = await sink.AppendForReceiptAsync(AuditTestData.Event(1), CancellationToken.None); // head after the first group
        var second = await sink.AppendForReceiptAsync(AuditTestData.Event(2), CancellationToken.None);

        var proofs = new AuditProofs(log);
        Assert.NotNull(await proofs.ProveAsync(first.WriterId, first.Seq, CancellationToken.None));
        Assert.Null(await proofs.ProveAsync(second.WriterId, second.Seq, CancellationToken.None));
    }
}
