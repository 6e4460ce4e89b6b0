using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Core.Tests.Audit;

public class AuditRecordTests
{
    [Fact]
    public void CanonicalBytes_FixedEvent_MatchesTheDocumentedForm()
    {
        var record = AuditRecord.Create(
            new AuditEvent
            {
                Time = new DateTimeOffset(2026, 1, 2, 4, 4, 5, TimeSpan.FromHours(1)).AddTicks(1234567),
                RequestId = "r\"1\\é",
                Caller = "anonymous",
                Operation = "infer",
                Model = "m",
                Stages = new Dictionary<string, string> { ["validate"] = "pass", ["infer"] = "pass" },
                Redactions = new Dictionary<string, int> { ["hardened_outputs"] = 1, ["EMAIL"] = 2 },
                Defenses = new Dictionary<string, AuditDefense>
                {
                    ["squeeze"] = new(false, "enforce", null, 0.25),
                    ["ood"] = new(true, "shadow", 3.1234567, 2.5),
                },
                Outcome = AuditEvent.Released,
                LatencyMs = 1.23456,
            },
            "w-1",
            1,
            AuditRecord.GenesisHash);

        var expected =
            "{\"v\":4,\"seq\":1,\"writer\":\"w-1\",\"time\":\"2026-01-02T03:04:05.1234567Z\",\"requestId\":\"r\\\"1\\\\\\u00e9\"," +
            "\"caller\":\"anonymous\",\"operation\":\"infer\",\"model\":\"m\",\"version\":null,\"manifestDigest\":null," +
            "\"inputSha256\":null,\"outputSha256\":null,\"stages\":{\"infer\":\"pass\",\"validate\":\"pass\"}," +
            "\"redactions\":{\"EMAIL\":2,\"hardened_outputs\":1}," +
            "\"defenses\":{\"ood\":{\"flagged\":true,\"mode\":\"shadow\",\"score\":3.123457,\"threshold\":2.500000}," +
            "\"squeeze\":{\"flagged\":false,\"mode\":\"enforce\",\"score\":null,\"threshold\":0.250000}}," +
            "\"security\":null,\"outcome\":\"released\",\"latencyMs\":1.235,\"prev\":\"" + new string('0', 64) + "\"}";
        Assert.Equal(expected, Encoding.ASCII.GetString(record.CanonicalBytes()));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(expected))), record.Hash);
        Assert.Equal(expected[..^1] + ",\"hash\":\"" + record.Hash + "\"}\n", Encoding.ASCII.GetString(record.ToJsonLine()));
    }

    [Fact]
    public void TryParse_FormatTwoLine_ParsesAndItsHashStillVerifies()
    {
        // A record written before defenses existed (format 2): no "defenses" property.
        var canonical =
            "{\"v\":2,\"seq\":1,\"writer\":\"w-1\",\"time\":\"2026-01-02T03:04:05.1234567Z\",\"requestId\":\"r1\"," +
            "\"caller\":\"anonymous\",\"operation\":\"infer\",\"model\":\"m\",\"version\":null,\"manifestDigest\":null," +
            "\"inputSha256\":null,\"outputSha256\":null,\"stages\":{\"infer\":\"pass\"}," +
            "\"redactions\":{},\"outcome\":\"released\",\"latencyMs\":1.235,\"prev\":\"" + new string('0', 64) + "\"}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(canonical)));
        var line = canonical[..^1] + ",\"hash\":\"" + hash + "\"}";

        Assert.True(AuditRecord.TryParse(Encoding.ASCII.GetBytes(line), out var record, out var error), error);
        Assert.Equal(2, record!.Version);
        Assert.Empty(record.Defenses);
        Assert.Equal(hash, record.ComputeHash());
        Assert.False(AuditRecord.TryParse(Encoding.ASCII.GetBytes(line.Replace("\"redactions\":{}", "\"redactions\":{},\"defenses\":{}", StringComparison.Ordinal)), out _, out _));
    }

    [Fact]
    public void TryParse_FormatThreeLine_ParsesAndItsHashStillVerifies()
    {
        // A record written before security events existed (format 3): defenses but no "security" property.
        var canonical =
            "{\"v\":3,\"seq\":1,\"writer\":\"w-1\",\"time\":\"2026-01-02T03:04:05.1234567Z\",\"requestId\":\"r1\"," +
            "\"caller\":\"anonymous\",\"operation\":\"infer\",\"model\":\"m\",\"version\":null,\"manifestDigest\":null," +
            "\"inputSha256\":null,\"outputSha256\":null,\"stages\":{\"infer\":\"pass\"}," +
            "\"redactions\":{},\"defenses\":{},\"outcome\":\"released\",\"latencyMs\":1.235,\"prev\":\"" + new string('0', 64) + "\"}";
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(canonical)));
        var line = canonical[..^1] + ",\"hash\":\"" + hash + "\"}";

        Assert.True(AuditRecord.TryParse(Encoding.ASCII.GetBytes(line), out var record, out var error), error);
        Assert.Equal(3, record!.Version);
        Assert.Null(record.Security);
        Assert.Equal(hash, record.ComputeHash());
        Assert.False(AuditRecord.TryParse(Encoding.ASCII.GetBytes(line.Replace("\"defenses\":{}", "\"defenses\":{},\"security\":null", StringComparison.Ordinal)), out _, out _));
    }

    [Fact]
    public void SecurityEventRecord_CanonicalFormAndRoundTrip()
    {
        var record = AuditRecord.Create(
            new AuditEvent
            {
                Time = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero),
                RequestId = "sev-1",
                Caller = "c0ffee",
                Operation = AuditEvent.SecurityOperation,
                Model = "digits",
                Stages = new Dictionary<string, string>(),
                Security = new AuditSecurity(
                    "extraction",
                    "block",
                    new Dictionary<string, string> { ["w"] = "0.81", ["delta"] = "0.9" },
                    new DateTimeOffset(2026, 11, 30, 14, 0, 0, TimeSpan.FromHours(1))),
                Outcome = "block",
                LatencyMs = 0,
            },
            "w",
            1,
            AuditRecord.GenesisHash);

        var canonical = Encoding.ASCII.GetString(record.CanonicalBytes());
        Assert.Contains(
            "\"defenses\":{},\"security\":{\"action\":\"block\",\"evidence\":{\"delta\":\"0.9\",\"w\":\"0.81\"},\"kind\":\"extraction\"," +
            "\"requestsPerMinute\":null,\"until\":\"2026-11-30T13:00:00.0000000Z\"},\"outcome\":\"block\"",
            canonical,
            StringComparison.Ordinal);
        var line = record.ToJsonLine();
        Assert.True(AuditRecord.TryParse(line.AsSpan(0, line.Length - 1), out var parsed, out var error), error);
        Assert.Equal(record.Hash, parsed!.ComputeHash());
        Assert.Equal("extraction", parsed.Security!.Kind);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 13, 0, 0, TimeSpan.Zero), parsed.Security.Until);
        Assert.NotEqual(record.Hash, (record with { Security = record.Security! with { Action = "none" } }).ComputeHash());
    }

    [Fact]
    public void TryParse_StoredLine_RoundTripsToTheSameHash()
    {
        var record = AuditRecord.Create(AuditTestData.Event(7), "w", 3, new string('f', 64));
        var line = record.ToJsonLine();

        Assert.True(AuditRecord.TryParse(line.AsSpan(0, line.Length - 1), out var parsed, out _));
        Assert.Equal(record.Hash, parsed!.ComputeHash());
        Assert.Equal(record.Hash, parsed.Hash);
        Assert.Equal(3, parsed.Seq);
        Assert.Equal(record.Time, parsed.Time);
    }

    [Theory]
    [InlineData("{\"v\":1}")]
    [InlineData("not json")]
    [InlineData("[]")]
    public void TryParse_NotARecord_Fails(string line) =>
        Assert.False(AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out _, out _));

    [Fact]
    public void TryParse_UnknownOrRepeatedProperty_Fails()
    {
        var line = Encoding.ASCII.GetString(AuditRecord.Create(AuditTestData.Event(1), "w", 1, AuditRecord.GenesisHash).ToJsonLine()).TrimEnd('\n');

        Assert.False(AuditRecord.TryParse(Encoding.ASCII.GetBytes(line[..^1] + ",\"extra\":1}"), out _, out _));
        Assert.False(AuditRecord.TryParse(Encoding.ASCII.GetBytes(line[..^1] + ",\"outcome\":\"failed\"}"), out _, out _));
    }

    [Fact]
    public void ComputeHash_AnyFieldChanged_Differs()
    {
        var record = AuditRecord.Create(AuditTestData.Event(1), "w", 1, AuditRecord.GenesisHash);

        Assert.NotEqual(record.Hash, (record with { Outcome = "failed" }).ComputeHash());
        Assert.NotEqual(record.Hash, (record with { Seq = 2 }).ComputeHash());
        Assert.NotEqual(record.Hash, (record with { Prev = new string('1', 64) }).ComputeHash());
        Assert.NotEqual(record.Hash, (record with { Redactions = new Dictionary<string, int> { ["EMAIL"] = 9 } }).ComputeHash());
    }
}
