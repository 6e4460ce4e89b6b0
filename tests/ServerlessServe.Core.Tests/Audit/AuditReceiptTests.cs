using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>Signed receipts of committed records: issued by the sink over Azurite, checked offline, tied to their proof.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditReceiptTests(AzuriteFixture azurite) : IDisposable
{
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _key.Dispose();

    [Fact]
    public async Task AppendWithReceiptAsync_ReceiptVerifiesAndMatchesRecordAndProof()
    {
        var log = azurite.GetContainer();
        var receipts = new List<AuditReceipt>();
        await using (var sink = new BlobAuditSink(log, AuditTestData.Options(_key, static o => o.CheckpointEvery = 5), new FakeLogger<BlobAuditSink>(), TimeProvider.System))
        {
            sink.Start();
            for (var i = 1; i <= 12; i++)
            {
                receipts.Add(await sink.AppendWithReceiptAsync(AuditTestData.Event(i), CancellationToken.None));
            }
        }

        var proofs = new AuditProofs(log);
        var records = await AuditTestData.ReadLinesAsync(log, "chains/" + receipts[0].WriterId + "/000000.jsonl");
        foreach (var receipt in receipts)
        {
            Assert.True(AuditReceipt.TryParse(receipt.Jws, out var parsed));
            Assert.Equal(receipt, parsed);
            Assert.True(parsed!.Verify([_key]));
            Assert.True(AuditRecord.TryParse(Encoding.UTF8.GetBytes(records[(int)receipt.Seq - 1]), out var record, out _));
            Assert.True(parsed.Matches(record!));
            Assert.Equal(new string('c', 64), parsed.OutputSha256);
            Assert.Equal(KeyIds.Compute(_key), parsed.KeyId);

            var proof = await proofs.ProveAsync(receipt.WriterId, receipt.Seq, CancellationToken.None);
            Assert.NotNull(proof);
            Assert.True(parsed.Matches(proof));
            Assert.True(proof.Verify([_key], out var error), error);
        }

        Assert.False(receipts[0].Matches((await proofs.ProveAsync(receipts[1].WriterId, receipts[1].Seq, CancellationToken.None))!));
        Assert.True(AuditRecord.TryParse(Encoding.UTF8.GetBytes(records[2]), out var third, out _));
        Assert.False(receipts[2].Matches(third! with { OutputSha256 = new string('d', 64) }));
        Assert.False(receipts[1].Matches(third!));
    }

    [Fact]
    public async Task SignReceipt_RecordFoundInTheChains_StatesWhatTheFirstReceiptStated()
    {
        // What a job's audit step run again gives: the records an earlier attempt committed, found and signed anew.
        var log = azurite.GetContainer();
        var since = DateTimeOffset.UtcNow;
        await using var sink = new BlobAuditSink(log, AuditTestData.Options(_key), new FakeLogger<BlobAuditSink>(), TimeProvider.System);
        sink.Start();
        var first = await sink.AppendWithReceiptAsync(AuditTestData.Event(1), CancellationToken.None);
        var second = await sink.AppendWithReceiptAsync(AuditTestData.Event(2), CancellationToken.None);

        var found = await new AuditReceipts(log, TimeProvider.System).FindRecordsAsync(["req-1", "req-2", "req-404"], "infer", since, CancellationToken.None);

        Assert.Equal(["req-1", "req-2"], found.Keys.Order(StringComparer.Ordinal));
        foreach (var original in new[] { first, second })
        {
            var again = sink.SignReceipt(found[original.RequestId]);
            Assert.True(again.Verify([_key]));
            Assert.Equal(original.Payload(), again.Payload());
        }
    }

    [Fact]
    public void Verify_WrongKeyOrAlteredStatement_Fails()
    {
        var receipt = Signed();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Assert.True(receipt.Verify([other, _key]));
        Assert.False(receipt.Verify([other]));

        // A statement changed after signing (here: another output digest) no longer verifies, though it still parses.
        var parts = receipt.Jws.Split('.');
        var payload = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(parts[1])).Replace(new string('c', 64), new string('d', 64), StringComparison.Ordinal);
        var altered = parts[0] + "." + Base64Url.EncodeToString(Encoding.ASCII.GetBytes(payload)) + "." + parts[2];
        Assert.True(AuditReceipt.TryParse(altered, out var parsedAltered));
        Assert.False(parsedAltered!.Verify([_key]));

        // A signature of the wrong length or encoding does not verify either.
        Assert.True(AuditReceipt.TryParse(parts[0] + "." + parts[1] + "." + parts[2][..^4], out var truncated));
        Assert.False(truncated!.Verify([_key]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a.b")]
    [InlineData("a.b.c.d")]
    [InlineData("!!!.???.###")]
    public void TryParse_NotAReceipt_False(string value) => Assert.False(AuditReceipt.TryParse(value, out _));

    [Fact]
    public void TryParse_NonCanonicalPayloadOrHeader_False()
    {
        var parts = Signed().Jws.Split('.');
        var payload = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(parts[1]));

        // Whitespace, an extra property, a missing one, another algorithm: not the statement that is signed.
        Assert.False(AuditReceipt.TryParse(parts[0] + "." + Encode(payload.Replace(",", ", ", StringComparison.Ordinal)) + "." + parts[2], out _));
        Assert.False(AuditReceipt.TryParse(parts[0] + "." + Encode(payload.Replace("}", ",\"x\":1}", StringComparison.Ordinal)) + "." + parts[2], out _));
        Assert.False(AuditReceipt.TryParse(parts[0] + "." + Encode(payload.Replace(",\"outcome\":\"released\"", string.Empty, StringComparison.Ordinal)) + "." + parts[2], out _));
        var header = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(parts[0]));
        Assert.False(AuditReceipt.TryParse(Encode(header.Replace("ES256", "none", StringComparison.Ordinal)) + "." + parts[1] + "." + parts[2], out _));
        // A null time (found in review 2026-12-07: it threw, and `ssctl receipt verify` crashed instead of refusing).
        Assert.False(AuditReceipt.TryParse(parts[0] + "." + Encode(System.Text.RegularExpressions.Regex.Replace(payload, "\"time\":\"[^\"]*\"", "\"time\":null")) + "." + parts[2], out _));
        Assert.True(AuditReceipt.TryParse(parts[0] + "." + parts[1] + "." + parts[2], out _));
    }

    [Theory]
    [InlineData(null, true, false)]
    [InlineData("", true, false)]
    [InlineData("?1", true, true)]
    [InlineData("1", true, true)]
    [InlineData(" ?1 ", true, true)]
    [InlineData("?0", true, false)]
    [InlineData("0", true, false)]
    [InlineData("yes", false, false)]
    [InlineData("?1, ?1", false, false)]
    public void TryParseRequest_ReadsTheStructuredBoolean(string? value, bool understood, bool requested)
    {
        Assert.Equal(understood, AuditReceipt.TryParseRequest(value, out var wanted));
        Assert.Equal(requested, wanted);
    }

    [Fact]
    public async Task ProveRecordAsync_FollowsAGrowingChainAcrossSegments()
    {
        var log = azurite.GetContainer();
        var proofs = new AuditProofs(log);
        var options = AuditTestData.Options(_key, static o =>
        {
            o.CheckpointEvery = 3;
            o.SegmentMaxRecords = 4;
        });
        await using var sink = new BlobAuditSink(log, options, new FakeLogger<BlobAuditSink>(), TimeProvider.System);
        sink.Start();
        var receipts = new List<AuditReceipt>();
        for (var i = 1; i <= 14; i++)
        {
            receipts.Add(await sink.AppendWithReceiptAsync(AuditTestData.Event(i), CancellationToken.None));

            // Asked after every append: the kept tree reads only what is new, across segment boundaries.
            var proven = await proofs.ProveRecordAsync(receipts[^1].WriterId, receipts[^1].Seq, CancellationToken.None);
            Assert.NotNull(proven);
            Assert.Equal("req-" + i, proven.RequestId);
            Assert.Equal(receipts[^1].LeafHash, proven.LeafHash);
            Assert.Equal("c0ffee" + (i % 7), proven.Caller);
            if (proven.Proof is { } proof)
            {
                Assert.True(proof.Verify([_key], out var error), error);
                Assert.True(receipts[^1].Matches(proof));
            }
        }

        var first = await proofs.ProveRecordAsync(receipts[0].WriterId, 1, CancellationToken.None);
        Assert.True(first!.Proof!.Verify([_key], out _));
        Assert.True(first.Proof.TreeSize >= 12);
        Assert.Null(await proofs.ProveRecordAsync(receipts[0].WriterId, 15, CancellationToken.None));
        Assert.Null(await proofs.ProveRecordAsync("no-such-writer", 1, CancellationToken.None));
    }

    [Fact]
    public void RequestIds_CarryTheirWritersTag()
    {
        var id = AuditRequestIds.New("gw-0-test");

        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.True(AuditRequestIds.TryTag(id, out var tag));
        Assert.Equal(AuditRequestIds.Tag("gw-0-test"), tag);
        Assert.NotEqual(AuditRequestIds.Tag("gw-1-test"), tag);
        Assert.NotEqual(id, AuditRequestIds.New("gw-0-test"));
        Assert.False(AuditRequestIds.TryTag("req-1", out _));
        Assert.False(AuditRequestIds.TryTag(id.ToUpperInvariant(), out _));
    }

    [Fact]
    public async Task ProveTaggedRequestAsync_FindsTheRecordThroughItsWritersTag()
    {
        var log = azurite.GetContainer();
        var options = AuditTestData.Options(_key, static o => o.CheckpointEvery = 2);
        var ids = new List<string>();
        await using (var other = new BlobAuditSink(log, AuditTestData.Options(_key), new FakeLogger<BlobAuditSink>(), TimeProvider.System))
        await using (var sink = new BlobAuditSink(log, options, new FakeLogger<BlobAuditSink>(), TimeProvider.System))
        {
            other.Start();
            sink.Start();
            await other.AppendAsync(AuditTestData.Event(1) with { RequestId = AuditRequestIds.New(other.WriterId) }, CancellationToken.None);
            for (var i = 1; i <= 5; i++)
            {
                ids.Add(AuditRequestIds.New(sink.WriterId));
                await sink.AppendAsync(AuditTestData.Event(i) with { RequestId = ids[^1] }, CancellationToken.None);
            }
        }

        var proofs = new AuditProofs(log);
        for (var i = 0; i < ids.Count; i++)
        {
            var proven = await proofs.ProveTaggedRequestAsync(ids[i], CancellationToken.None);
            Assert.NotNull(proven);
            Assert.Equal(ids[i], proven.RequestId);
            Assert.True(proven.Proof!.Verify([_key], out var error), error);
            Assert.Equal(i + 1, proven.Proof.Seq);
        }

        // An id of the right writer that was never recorded, one with no writer's tag, one not of this form: nothing.
        Assert.Null(await proofs.ProveTaggedRequestAsync(ids[0][..8] + new string('0', 24), CancellationToken.None));
        Assert.Null(await proofs.ProveTaggedRequestAsync("ffffffff" + ids[0][8..], CancellationToken.None));
        Assert.Null(await proofs.ProveTaggedRequestAsync("req-1", CancellationToken.None));
    }

    [Fact]
    public async Task Index_RemembersAndFindsFromStoreOnAnotherInstance()
    {
        var log = azurite.GetContainer();
        var receipt = Signed() with { RequestId = Guid.NewGuid().ToString("N") };
        await using (var writer = new AuditReceiptIndex(log, new FakeLogger<AuditReceiptIndex>()))
        {
            writer.Remember(receipt);
            Assert.Equal(new AuditLeaf(receipt.WriterId, receipt.Seq, receipt.LeafHash), await writer.FindAsync(receipt.RequestId, CancellationToken.None));
        }

        // Another instance (nothing in memory) finds it in the store once the write-behind has run (dispose drains it).
        await using var reader = new AuditReceiptIndex(log, new FakeLogger<AuditReceiptIndex>());
        Assert.Equal(new AuditLeaf(receipt.WriterId, receipt.Seq, receipt.LeafHash), await reader.FindAsync(receipt.RequestId, CancellationToken.None));
        Assert.Null(await reader.FindAsync(Guid.NewGuid().ToString("N"), CancellationToken.None));
        Assert.Null(await reader.FindAsync("../chains/x", CancellationToken.None));
    }

    private static string Encode(string text) => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(text));

    private AuditReceipt Signed()
    {
        var record = AuditRecord.Create(AuditTestData.Event(3), "gw-0-test", 3, AuditRecord.GenesisHash);
        var leaf = new AuditLeaf("gw-0-test", 3, Convert.ToHexStringLower(MerkleHash.Leaf(record.CanonicalBytes())));
        return AuditReceipt.Sign(record, leaf, _key, KeyIds.Compute(_key));
    }
}
