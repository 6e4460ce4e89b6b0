using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// One stored audit record: an <see cref="AuditEvent"/> placed in a writer's hash chain. Holds digests, verdicts and
/// counts, never payloads or raw caller ids.
/// </summary>
/// <remarks>
/// <para><b>Canonical form</b> (what <see cref="Hash"/> covers): UTF-8 JSON, no whitespace, these properties in this
/// order, each always present: <c>v</c> (format version, 2), <c>seq</c>, <c>writer</c>, <c>time</c>, <c>requestId</c>,
/// <c>caller</c>, <c>operation</c>, <c>model</c>, <c>version</c>, <c>manifestDigest</c>, <c>inputSha256</c>,
/// <c>outputSha256</c> (strings or <c>null</c>), <c>stages</c> (object of strings), <c>redactions</c> (object of
/// integers), <c>defenses</c> (format 3 only: object of objects with keys <c>flagged</c> (boolean), <c>mode</c>,
/// <c>score</c> (6 fraction digits or <c>null</c>) and <c>threshold</c> (6 fraction digits)), <c>security</c> (format 4 only: <c>null</c>, or for a record of operation
/// <c>security</c> an object with keys <c>action</c>, <c>evidence</c> (object of strings), <c>kind</c>,
/// <c>requestsPerMinute</c> (integer or <c>null</c>) and <c>until</c> (time or <c>null</c>)), <c>outcome</c>
/// (string), <c>latencyMs</c>, <c>prev</c>. Records of format 2 (without <c>defenses</c>) and 3 (without <c>security</c>) still parse and verify. Object keys in ordinal (UTF-16 code unit) order; integers in
/// plain decimal; <c>time</c> as <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c> (UTC, 7 fraction digits); <c>latencyMs</c> with
/// exactly 3 fraction digits; strings escaped as in <see cref="CanonicalJson"/> (only <c>\"</c>, <c>\\</c> and
/// <c>\uXXXX</c> lowercase for code units outside U+0020..U+007E), so the canonical bytes are ASCII.</para>
/// <para><see cref="Hash"/> = lowercase hex SHA-256 of the canonical bytes. <see cref="Prev"/> = the previous record's
/// hash in the same writer's chain, or 64 zeros for seq 1. The stored line is the canonical JSON with
/// <c>,"hash":"…"</c> inserted before its closing brace, followed by <c>\n</c>.</para>
/// </remarks>
public sealed record AuditRecord
{
    /// <summary>The record format version written now, as <c>v</c>.</summary>
    public const int FormatVersion = 4;

    /// <summary>The oldest format still read (before <c>defenses</c>).</summary>
    public const int OldestFormatVersion = 2;

    /// <summary>The <see cref="Prev"/> of the first record of a chain.</summary>
    public static readonly string GenesisHash = new('0', 64);

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private static readonly string[] PropertyOrder =
    [
        "v", "seq", "writer", "time", "requestId", "caller", "operation", "model", "version", "manifestDigest",
        "inputSha256", "outputSha256", "stages", "redactions", "defenses", "security", "outcome", "latencyMs", "prev", "hash",
    ];

    private static readonly string[] PropertyOrderV3 = PropertyOrder.Where(p => p != "security").ToArray();

    private static readonly string[] PropertyOrderV2 = PropertyOrderV3.Where(p => p != "defenses").ToArray();

    /// <summary>The record's format version (<see cref="FormatVersion"/> for new records).</summary>
    public int Version { get; init; } = FormatVersion;

    /// <summary>Position in the writer's chain, from 1.</summary>
    public required long Seq { get; init; }

    public required string WriterId { get; init; }

    /// <summary>Event time in UTC, kept to 100 ns.</summary>
    public required DateTimeOffset Time { get; init; }

    public required string RequestId { get; init; }

    /// <summary>Caller pseudonym (see <see cref="CallerPseudonymizer"/>).</summary>
    public required string Caller { get; init; }

    public required string Operation { get; init; }

    public string? Model { get; init; }

    public string? ModelVersion { get; init; }

    public string? ManifestDigest { get; init; }

    public string? InputSha256 { get; init; }

    public string? OutputSha256 { get; init; }

    public required IReadOnlyDictionary<string, string> Stages { get; init; }

    public required IReadOnlyDictionary<string, int> Redactions { get; init; }

    /// <summary>Each defense's decision by name (empty in format 2 records).</summary>
    public IReadOnlyDictionary<string, AuditDefense> Defenses { get; init; } = new Dictionary<string, AuditDefense>();

    /// <summary>The security event a record of operation <c>security</c> holds (null otherwise, and in formats 2 and 3).</summary>
    public AuditSecurity? Security { get; init; }

    /// <summary><c>released</c>, or the refusal kind that stopped the request.</summary>
    public required string Outcome { get; init; }

    /// <summary>Latency in milliseconds, kept to 3 decimals (microseconds).</summary>
    public required double LatencyMs { get; init; }

    /// <summary>Hash of the previous record of this writer, or <see cref="GenesisHash"/>.</summary>
    public required string Prev { get; init; }

    /// <summary>Lowercase hex SHA-256 of <see cref="CanonicalBytes"/> as stored (for a parsed record, as read).</summary>
    public required string Hash { get; init; }

    /// <summary>Places <paramref name="auditEvent"/> in a chain at <paramref name="seq"/> after <paramref name="prev"/>.</summary>
    public static AuditRecord Create(AuditEvent auditEvent, string writerId, long seq, string prev)
    {
        var record = Unhashed(auditEvent, writerId, seq, prev);
        return record with { Hash = record.ComputeHash() };
    }

    /// <summary>
    /// <see cref="Create"/> without the hash (<see cref="Hash"/> empty): for a record whose place in the chain is not known
    /// yet, which <see cref="InChain"/> hashes once it is.
    /// </summary>
    internal static AuditRecord Unhashed(AuditEvent auditEvent, string writerId, long seq, string prev)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ArgumentOutOfRangeException.ThrowIfLessThan(seq, 1);
        if (!double.IsFinite(auditEvent.LatencyMs) || auditEvent.LatencyMs < 0)
        {
            throw new ArgumentException("Latency must be a finite, non-negative number.", nameof(auditEvent));
        }

        var record = new AuditRecord
        {
            Seq = seq,
            WriterId = writerId,
            Time = new DateTimeOffset(auditEvent.Time.UtcDateTime, TimeSpan.Zero),
            RequestId = auditEvent.RequestId,
            Caller = auditEvent.Caller,
            Operation = auditEvent.Operation,
            Model = auditEvent.Model,
            ModelVersion = auditEvent.ModelVersion,
            ManifestDigest = auditEvent.ManifestDigest,
            InputSha256 = auditEvent.InputSha256,
            OutputSha256 = auditEvent.OutputSha256,
            Stages = new Dictionary<string, string>(auditEvent.Stages, StringComparer.Ordinal),
            Redactions = new Dictionary<string, int>(auditEvent.Redactions, StringComparer.Ordinal),
            Defenses = auditEvent.Defenses.ToDictionary(
                d => d.Key,
                d => d.Value with
                {
                    Score = d.Value.Score is { } score && double.IsFinite(score) ? Math.Round(score, 6, MidpointRounding.AwayFromZero) : null,
                    Threshold = double.IsFinite(d.Value.Threshold) ? Math.Round(d.Value.Threshold, 6, MidpointRounding.AwayFromZero) : 0,
                },
                StringComparer.Ordinal),
            Security = auditEvent.Security is { } security
                ? security with
                {
                    Evidence = new Dictionary<string, string>(security.Evidence, StringComparer.Ordinal),
                    Until = security.Until is { } until ? new DateTimeOffset(until.UtcDateTime, TimeSpan.Zero) : null,
                }
                : null,
            Outcome = auditEvent.Outcome,
            LatencyMs = Math.Round(auditEvent.LatencyMs, 3, MidpointRounding.AwayFromZero),
            Prev = prev,
            Hash = string.Empty,
        };
        return record;
    }

    /// <summary>This record placed at <paramref name="seq"/> after <paramref name="prev"/>, with its hash recomputed.</summary>
    /// <remarks>
    /// <paramref name="leafHash"/> is the record's Merkle leaf hash and <paramref name="line"/> its stored line
    /// (<see cref="ToJsonLine"/>), both from the same canonical text as the hash: one encoding for all three.
    /// </remarks>
    internal AuditRecord InChain(long seq, string prev, out byte[] leafHash, out byte[] line)
    {
        var record = this with { Seq = seq, Prev = prev };
        var canonical = record.Canonical().ToString();
        var bytes = Encoding.ASCII.GetBytes(canonical);
        leafHash = MerkleHash.Leaf(bytes);
        record = record with { Hash = Convert.ToHexStringLower(SHA256.HashData(bytes)) };
        line = LineOf(canonical, record.Hash);
        return record;
    }

    /// <summary>The canonical text of every field except <see cref="Hash"/>: what <see cref="CanonicalBytes"/> encodes.</summary>
    internal string CanonicalText() => Canonical().ToString();

    /// <summary>The stored line of a record whose canonical text is <paramref name="canonical"/> and whose hash is <paramref name="hash"/>.</summary>
    internal static byte[] LineOf(string canonical, string hash) =>
        Encoding.ASCII.GetBytes(string.Concat(canonical.AsSpan(0, canonical.Length - 1), ",\"hash\":\"", hash, "\"}\n"));

    /// <summary>The canonical serialization of every field except <see cref="Hash"/> (see remarks).</summary>
    public byte[] CanonicalBytes() => Canonical().ToBytes();

    /// <summary>Lowercase hex SHA-256 of <see cref="CanonicalBytes"/>.</summary>
    public string ComputeHash() => Convert.ToHexStringLower(SHA256.HashData(CanonicalBytes()));

    /// <summary>The stored line: canonical JSON with <c>hash</c> as last property, then <c>\n</c>.</summary>
    public byte[] ToJsonLine() => LineOf(Canonical().ToString(), Hash);

    /// <summary>
    /// Parses one stored line (without its newline). Strict: a JSON object with exactly the record's properties, each
    /// once, of the right type. Does not check the hash (compare <see cref="ComputeHash"/> with <see cref="Hash"/>).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out AuditRecord? record, out string? error)
    {
        record = null;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 4 });
            using var document = JsonDocument.ParseValue(ref reader);
            if (reader.BytesConsumed != line.Length)
            {
                error = "trailing content after the record";
                return false;
            }

            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "not a JSON object";
                return false;
            }

            var version = root.TryGetProperty("v", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;
            if (version is < OldestFormatVersion or > FormatVersion)
            {
                error = "unsupported record version";
                return false;
            }

            var order = version switch { 2 => PropertyOrderV2, 3 => PropertyOrderV3, _ => PropertyOrder };
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(order, property.Name) < 0 || !seen.Add(property.Name))
                {
                    error = "unknown or repeated property";
                    return false;
                }
            }

            if (seen.Count != order.Length)
            {
                error = "missing property";
                return false;
            }

            record = new AuditRecord
            {
                Version = version,
                Seq = root.GetProperty("seq").GetInt64(),
                WriterId = RequiredString(root, "writer"),
                Time = DateTimeOffset.ParseExact(RequiredString(root, "time"), TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                RequestId = RequiredString(root, "requestId"),
                Caller = RequiredString(root, "caller"),
                Operation = RequiredString(root, "operation"),
                Model = OptionalString(root, "model"),
                ModelVersion = OptionalString(root, "version"),
                ManifestDigest = OptionalString(root, "manifestDigest"),
                InputSha256 = OptionalString(root, "inputSha256"),
                OutputSha256 = OptionalString(root, "outputSha256"),
                Stages = StringMap(root.GetProperty("stages")),
                Redactions = IntegerMap(root.GetProperty("redactions")),
                Defenses = version == 2 ? new Dictionary<string, AuditDefense>() : DefenseMap(root.GetProperty("defenses")),
                Security = version >= 4 ? SecurityOf(root.GetProperty("security")) : null,
                Outcome = RequiredString(root, "outcome"),
                LatencyMs = root.GetProperty("latencyMs").GetDouble(),
                Prev = RequiredString(root, "prev"),
                Hash = RequiredString(root, "hash"),
            };
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
        {
            error = "not a valid audit record";
            return false;
        }
    }

    private CanonicalJson Canonical()
    {
        var json = new CanonicalJson().BeginObject()
            .Integer("v", Version)
            .Integer("seq", Seq)
            .String("writer", WriterId)
            .String("time", Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture))
            .String("requestId", RequestId)
            .String("caller", Caller)
            .String("operation", Operation)
            .String("model", Model)
            .String("version", ModelVersion)
            .String("manifestDigest", ManifestDigest)
            .String("inputSha256", InputSha256)
            .String("outputSha256", OutputSha256)
            .StringMap("stages", Stages)
            .IntegerMap("redactions", Redactions);
        if (Version >= 3)
        {
            json.Name("defenses").BeginObject();
            foreach (var name in Defenses.Keys.Order(StringComparer.Ordinal))
            {
                var defense = Defenses[name];
                json.Name(name).BeginObject()
                    .Boolean("flagged", defense.Flagged)
                    .String("mode", defense.Mode)
                    .FixedOrNull("score", defense.Score, 6)
                    .Fixed("threshold", defense.Threshold, 6)
                    .EndObject();
            }

            json.EndObject();
        }

        if (Version >= 4)
        {
            if (Security is not { } security)
            {
                json.String("security", null);
            }
            else
            {
                json.Name("security").BeginObject()
                    .String("action", security.Action)
                    .StringMap("evidence", security.Evidence)
                    .String("kind", security.Kind)
                    .IntegerOrNull("requestsPerMinute", security.RequestsPerMinute)
                    .String("until", security.Until?.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture))
                    .EndObject();
            }
        }

        return json
            .String("outcome", Outcome)
            .Fixed("latencyMs", LatencyMs, 3)
            .String("prev", Prev)
            .EndObject();
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.GetProperty(name).GetString() ?? throw new FormatException(name + " is null");

    private static string? OptionalString(JsonElement root, string name)
    {
        var element = root.GetProperty(name);
        return element.ValueKind == JsonValueKind.Null ? null : element.GetString();
    }

    private static Dictionary<string, string> StringMap(JsonElement element)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            map.Add(property.Name, property.Value.GetString() ?? throw new FormatException("null stage verdict"));
        }

        return map;
    }

    private static Dictionary<string, AuditDefense> DefenseMap(JsonElement element)
    {
        var map = new Dictionary<string, AuditDefense>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var value = property.Value;
            if (value.EnumerateObject().Count() != 4)
            {
                throw new FormatException("a defense has exactly flagged, mode, score and threshold");
            }

            var score = value.GetProperty("score");
            map.Add(property.Name, new AuditDefense(
                value.GetProperty("flagged").GetBoolean(),
                value.GetProperty("mode").GetString() ?? throw new FormatException("null mode"),
                score.ValueKind == JsonValueKind.Null ? null : score.GetDouble(),
                value.GetProperty("threshold").GetDouble()));
        }

        return map;
    }

    private static AuditSecurity? SecurityOf(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.EnumerateObject().Count() != 5)
        {
            throw new FormatException("a security event has exactly action, evidence, kind, requestsPerMinute and until");
        }

        var rate = element.GetProperty("requestsPerMinute");
        var until = OptionalString(element, "until");
        return new AuditSecurity(
            RequiredString(element, "kind"),
            RequiredString(element, "action"),
            StringMap(element.GetProperty("evidence")),
            until is null ? null : DateTimeOffset.ParseExact(until, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            rate.ValueKind == JsonValueKind.Null ? null : rate.GetInt32());
    }

    private static Dictionary<string, int> IntegerMap(JsonElement element)
    {
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            map.Add(property.Name, property.Value.GetInt32());
        }

        return map;
    }
}
