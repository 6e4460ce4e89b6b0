using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Tests.Fixtures;

namespace ServerlessServe.Core.Tests.Audit;

/// <summary>
/// The admin plane's reads of the audit container, against records planted by someone with write access to it (no key):
/// the security-event list keeps to records that hash, sit in their own writer's chain and are not dated ahead, and the
/// checkpoint view tolerates a key listed twice and junk head names. (Found in review.)
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditReaderTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose() => _key.Dispose();

    [Fact]
    public async Task SecurityRecords_PlantedFarFutureOrMisplacedOrBadHash_NotListed_RealOnesAre()
    {
        var container = await azurite.CreateContainerAsync("reader");
        await PlantAsync(container, "real", [Security(1, Now.AddMinutes(-10)), Security(2, Now.AddMinutes(-5))]);

        // A made-up writer's well-hashed run dated in 9999: it filled the list and pushed every real event off.
        await PlantAsync(container, "flood", [.. Enumerable.Range(1, 50).Select(i => Security(i, new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero)))]);

        // A record whose writer is not the chain it sits in, and one that does not hash to its hash.
        await PlantAsync(container, "elsewhere", [Security(1, Now.AddMinutes(-1))], writerInRecords: "real");
        var tampered = AuditRecord.Create(Event(1, Now.AddMinutes(-2)), "tampered", 1, AuditRecord.GenesisHash) with { Caller = "someone-else" };
        await container.GetBlobClient(AuditBlobNames.Segment("tampered", 0)).UploadAsync(BinaryData.FromBytes(tampered.ToJsonLine()));

        var records = await new AuditReader(container, new FakeTimeProvider(Now)).SecurityRecordsAsync(null, 10, CancellationToken.None);

        Assert.Equal(["sev-2", "sev-1"], records.Select(r => r.RequestId));
        Assert.All(records, r => Assert.Equal("real", r.WriterId));
    }

    [Fact]
    public async Task Checkpoints_KeyListedTwice_AndJunkHighHeadNames_TheRealHeadsShown()
    {
        var container = azurite.GetContainer();
        var writer = await AuditTestData.WriteChainAsync(container, _key, 20, static o => o.CheckpointEvery = 10);
        foreach (var seq in new long[] { 900, 901, 902 })
        {
            await container.GetBlobClient(AuditBlobNames.Checkpoint(writer, seq)).UploadAsync(BinaryData.FromString("junk"));
        }

        var heads = await new AuditReader(container).CheckpointsAsync(2, [_key, _key], CancellationToken.None);

        var shown = heads.Where(h => h.WriterId == writer).Select(h => h.Seq).ToList();
        Assert.Equal(2, shown.Count);
        Assert.Equal(20L, shown[0]);
        Assert.All(shown, seq => Assert.True(seq <= 20));
        Assert.All(heads, h => Assert.True(h.SignatureValid));
    }

    private static async Task PlantAsync(Azure.Storage.Blobs.BlobContainerClient container, string writer, AuditEvent[] events, string? writerInRecords = null)
    {
        var prev = AuditRecord.GenesisHash;
        using var content = new MemoryStream();
        for (var i = 0; i < events.Length; i++)
        {
            var record = AuditRecord.Create(events[i], writerInRecords ?? writer, i + 1, prev);
            content.Write(record.ToJsonLine());
            prev = record.Hash;
        }

        content.Position = 0;
        await container.GetBlobClient(AuditBlobNames.Segment(writer, 0)).UploadAsync(content);
    }

    private static AuditEvent Security(int n, DateTimeOffset time) => Event(n, time);

    private static AuditEvent Event(int n, DateTimeOffset time) => new()
    {
        Time = time,
        RequestId = "sev-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Caller = "c0ffee",
        Operation = AuditEvent.SecurityOperation,
        Model = "digits",
        Stages = new Dictionary<string, string>(),
        Security = new AuditSecurity("extraction", "block", new Dictionary<string, string> { ["w"] = "0.81" }, null),
        Outcome = "block",
        LatencyMs = 0,
    };
}
