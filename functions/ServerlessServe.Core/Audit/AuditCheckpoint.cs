using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// A signed statement that a writer's chain reached <see cref="Seq"/> with head <see cref="Hash"/>, stored write-once as
/// <c>checkpoints/{writerId}/{seq:D12}.json</c>. Two formats: a signed tree head (format 2, written now)
/// <c>{"v":2,"writerId","treeSize","hash","root","prevHead","time","keyId","sig"}</c>, which also commits to the Merkle
/// root (RFC 9162) of records 1..treeSize and to the previous head; and a plain checkpoint (format 1, still read)
/// <c>{"writerId","seq","hash","time","keyId","sig"}</c>.
/// </summary>
/// <remarks>
/// <see cref="Signature"/> is base64 of an ECDSA P-256 / SHA-256 signature in IEEE P1363 form (r‖s, 64 bytes) over the
/// canonical JSON of every property but <c>sig</c>, in the order above (same canonical rules as
/// <see cref="AuditRecord"/>; time as <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>). <see cref="KeyId"/> is
/// <see cref="KeyIds.Compute(ECDsa)"/> of the signing key, the same key id as model signers and token keys. A tree head's
/// <c>treeSize</c> is the seq of the last record it covers (records are leaves 1..treeSize); <c>prevHead</c> is
/// <see cref="HeadHash"/> of the writer's previous stored head (either format), 64 zeros for its first.
/// </remarks>
internal sealed record AuditCheckpoint(string WriterId, long Seq, string Hash, DateTimeOffset Time, string KeyId, string Signature)
{
    /// <summary>The format of signed tree heads.</summary>
    public const int TreeHeadVersion = 2;

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private static readonly string[] Properties = ["writerId", "seq", "hash", "time", "keyId", "sig"];

    private static readonly string[] TreeHeadProperties = ["v", "writerId", "treeSize", "hash", "root", "prevHead", "time", "keyId", "sig"];

    /// <summary>The Merkle root (lowercase hex) of records 1..<see cref="Seq"/>; null for a format 1 checkpoint.</summary>
    public string? Root { get; init; }

    /// <summary><see cref="HeadHash"/> of the previous head of this writer (64 zeros for the first); null for format 1.</summary>
    public string? PrevHead { get; init; }

    /// <summary>True for a signed tree head (format 2).</summary>
    public bool IsTreeHead => Root is not null;

    /// <summary>Signs a format 1 checkpoint over (<paramref name="writerId"/>, <paramref name="seq"/>, <paramref name="hash"/>); kept for tests of old trails.</summary>
    public static AuditCheckpoint Create(string writerId, long seq, string hash, DateTimeOffset time, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var unsigned = new AuditCheckpoint(writerId, seq, hash, new DateTimeOffset(time.UtcDateTime, TimeSpan.Zero), KeyIds.Compute(key), string.Empty);
        return unsigned.SignWith(key);
    }

    /// <summary>Signs a tree head: records 1..<paramref name="treeSize"/> with Merkle root <paramref name="root"/>, following <paramref name="prevHead"/>.</summary>
    public static AuditCheckpoint CreateTreeHead(string writerId, long treeSize, string hash, string root, string prevHead, DateTimeOffset time, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var unsigned = new AuditCheckpoint(writerId, treeSize, hash, new DateTimeOffset(time.UtcDateTime, TimeSpan.Zero), KeyIds.Compute(key), string.Empty)
        {
            Root = root,
            PrevHead = prevHead,
        };
        return unsigned.SignWith(key);
    }

    /// <summary>Lowercase hex SHA-256 of the stored document (<see cref="ToJson"/>): what the next head's <c>prevHead</c> names.</summary>
    public string HeadHash() => Convert.ToHexStringLower(SHA256.HashData(ToJson()));

    /// <summary>The canonical bytes the signature covers.</summary>
    public byte[] SignedBytes() => Unsigned().EndObject().ToBytes();

    private AuditCheckpoint SignWith(ECDsa key)
    {
        var signature = key.SignData(SignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return this with { Signature = Convert.ToBase64String(signature) };
    }

    private CanonicalJson Unsigned()
    {
        var json = new CanonicalJson().BeginObject();
        if (IsTreeHead)
        {
            return json.Integer("v", TreeHeadVersion)
                .String("writerId", WriterId)
                .Integer("treeSize", Seq)
                .String("hash", Hash)
                .String("root", Root!)
                .String("prevHead", PrevHead!)
                .String("time", Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture))
                .String("keyId", KeyId);
        }

        return json.String("writerId", WriterId)
            .Integer("seq", Seq)
            .String("hash", Hash)
            .String("time", Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture))
            .String("keyId", KeyId);
    }

    /// <summary>True when <paramref name="key"/> has this checkpoint's key id and its signature verifies.</summary>
    public bool VerifySignature(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!string.Equals(KeyIds.Compute(key), KeyId, StringComparison.Ordinal))
        {
            return false;
        }

        var signature = new byte[64];
        return Convert.TryFromBase64String(Signature, signature, out var written)
            && written == 64
            && key.VerifyData(SignedBytes(), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>The stored JSON document.</summary>
    public byte[] ToJson() => Unsigned().String("sig", Signature).EndObject().ToBytes();

    /// <summary>Parses a stored checkpoint or tree head strictly (exactly the properties of its format). Does not verify the signature.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out AuditCheckpoint? checkpoint)
    {
        checkpoint = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 2 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (reader.BytesConsumed != json.Length || root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var treeHead = root.TryGetProperty("v", out var version);
            if (treeHead && (version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v) || v != TreeHeadVersion))
            {
                return false;
            }

            var expected = treeHead ? TreeHeadProperties : Properties;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(expected, property.Name) < 0 || !seen.Add(property.Name))
                {
                    return false;
                }
            }

            if (seen.Count != expected.Length)
            {
                return false;
            }

            checkpoint = new AuditCheckpoint(
                root.GetProperty("writerId").GetString()!,
                root.GetProperty(treeHead ? "treeSize" : "seq").GetInt64(),
                root.GetProperty("hash").GetString()!,
                DateTimeOffset.ParseExact(root.GetProperty("time").GetString()!, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                root.GetProperty("keyId").GetString()!,
                root.GetProperty("sig").GetString()!)
            {
                Root = treeHead ? root.GetProperty("root").GetString() : null,
                PrevHead = treeHead ? root.GetProperty("prevHead").GetString() : null,
            };
            if (treeHead && (!IsHex64(checkpoint.Root) || !IsHex64(checkpoint.PrevHead)))
            {
                checkpoint = null;
                return false;
            }

            return checkpoint.WriterId is not null && checkpoint.Hash is not null && checkpoint.KeyId is not null && checkpoint.Signature is not null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            checkpoint = null;
            return false;
        }
    }

    /// <summary>True for 64 lowercase hex digits.</summary>
    internal static bool IsHex64(string? value) =>
        value is { Length: 64 } && !value.AsSpan().ContainsAnyExcept("0123456789abcdef");
}
