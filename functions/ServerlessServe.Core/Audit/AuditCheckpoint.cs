using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// A signed statement that a writer's chain reached <see cref="Seq"/> with head <see cref="Hash"/>. Stored write-once as
/// <c>checkpoints/{writerId}/{seq:D12}.json</c>: <c>{"writerId","seq","hash","time","keyId","sig"}</c>.
/// </summary>
/// <remarks>
/// <see cref="Signature"/> is base64 of an ECDSA P-256 / SHA-256 signature in IEEE P1363 form (r‖s, 64 bytes) over the
/// canonical JSON <c>{"writerId":…,"seq":…,"hash":…,"time":…,"keyId":…}</c> (same canonical rules as
/// <see cref="AuditRecord"/>; time as <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>). <see cref="KeyId"/> is
/// <see cref="KeyIds.Compute(ECDsa)"/> of the signing key, the same key id as model signers and token keys.
/// </remarks>
internal sealed record AuditCheckpoint(string WriterId, long Seq, string Hash, DateTimeOffset Time, string KeyId, string Signature)
{
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    private static readonly string[] Properties = ["writerId", "seq", "hash", "time", "keyId", "sig"];

    /// <summary>Signs a checkpoint over (<paramref name="writerId"/>, <paramref name="seq"/>, <paramref name="hash"/>).</summary>
    public static AuditCheckpoint Create(string writerId, long seq, string hash, DateTimeOffset time, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var unsigned = new AuditCheckpoint(writerId, seq, hash, new DateTimeOffset(time.UtcDateTime, TimeSpan.Zero), KeyIds.Compute(key), string.Empty);
        var signature = key.SignData(unsigned.SignedBytes(), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return unsigned with { Signature = Convert.ToBase64String(signature) };
    }

    /// <summary>The canonical bytes the signature covers.</summary>
    public byte[] SignedBytes() =>
        new CanonicalJson().BeginObject()
            .String("writerId", WriterId)
            .Integer("seq", Seq)
            .String("hash", Hash)
            .String("time", Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture))
            .String("keyId", KeyId)
            .EndObject()
            .ToBytes();

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
    public byte[] ToJson() =>
        new CanonicalJson().BeginObject()
            .String("writerId", WriterId)
            .Integer("seq", Seq)
            .String("hash", Hash)
            .String("time", Time.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture))
            .String("keyId", KeyId)
            .String("sig", Signature)
            .EndObject()
            .ToBytes();

    /// <summary>Parses a stored checkpoint strictly (exactly its six properties). Does not verify the signature.</summary>
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

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (Array.IndexOf(Properties, property.Name) < 0 || !seen.Add(property.Name))
                {
                    return false;
                }
            }

            if (seen.Count != Properties.Length)
            {
                return false;
            }

            checkpoint = new AuditCheckpoint(
                root.GetProperty("writerId").GetString()!,
                root.GetProperty("seq").GetInt64(),
                root.GetProperty("hash").GetString()!,
                DateTimeOffset.ParseExact(root.GetProperty("time").GetString()!, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
                root.GetProperty("keyId").GetString()!,
                root.GetProperty("sig").GetString()!);
            return checkpoint.WriterId is not null && checkpoint.Hash is not null && checkpoint.KeyId is not null && checkpoint.Signature is not null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            checkpoint = null;
            return false;
        }
    }
}
