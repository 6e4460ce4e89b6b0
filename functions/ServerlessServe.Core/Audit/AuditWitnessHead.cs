using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// A writer's signed tree head as the witness store holds it, countersigned with the witness key:
/// <c>{"head":{…the tree head as stored in the log…},"witnessKeyId":…,"witnessSig":…}</c>, stored write-once as
/// <c>heads/{writerId}/{treeSize:D12}.json</c> in the witness container.
/// </summary>
/// <remarks>
/// <c>witnessSig</c> is base64 of an ECDSA P-256 / SHA-256 signature (IEEE P1363, 64 bytes) over
/// <c>"ssv-audit-witness-v1\n"</c> followed by the head's stored bytes (<see cref="AuditCheckpoint.ToJson"/>, which
/// include the writer's own signature). The writer's signature says the log key made the head; the countersignature
/// says the head was put in the witness store by the holder of the witness key, so a head there cannot be planted by
/// someone who can write to the witness store alone.
/// </remarks>
internal sealed record AuditWitnessHead(AuditCheckpoint Head, string WitnessKeyId, string WitnessSignature)
{
    private static readonly byte[] Domain = Encoding.ASCII.GetBytes("ssv-audit-witness-v1\n");

    /// <summary>Countersigns <paramref name="head"/> with <paramref name="witnessKey"/>.</summary>
    public static AuditWitnessHead Create(AuditCheckpoint head, ECDsa witnessKey)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(witnessKey);
        var signature = witnessKey.SignData(SignedBytes(head), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new AuditWitnessHead(head, KeyIds.Compute(witnessKey), Convert.ToBase64String(signature));
    }

    /// <summary>True when <paramref name="witnessKey"/> has this head's witness key id and the countersignature verifies.</summary>
    public bool VerifyWitnessSignature(ECDsa witnessKey)
    {
        ArgumentNullException.ThrowIfNull(witnessKey);
        if (!string.Equals(KeyIds.Compute(witnessKey), WitnessKeyId, StringComparison.Ordinal))
        {
            return false;
        }

        var signature = new byte[64];
        return Convert.TryFromBase64String(WitnessSignature, signature, out var written)
            && written == 64
            && witnessKey.VerifyData(SignedBytes(Head), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>The stored document.</summary>
    public byte[] ToJson()
    {
        var head = Head.ToJson();
        var tail = new CanonicalJson().BeginObject().String("witnessKeyId", WitnessKeyId).String("witnessSig", WitnessSignature).EndObject().ToBytes();
        var prefix = "{\"head\":"u8;
        var result = new byte[prefix.Length + head.Length + tail.Length];
        prefix.CopyTo(result);
        head.CopyTo(result, prefix.Length);
        result[prefix.Length + head.Length] = (byte)',';
        tail.AsSpan(1).CopyTo(result.AsSpan(prefix.Length + head.Length + 1));
        return result;
    }

    /// <summary>Parses a stored witness head strictly (exactly its three properties; the head in tree-head format). Verifies no signature.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out AuditWitnessHead? witnessHead)
    {
        witnessHead = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 3 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (reader.BytesConsumed != json.Length || root.ValueKind != JsonValueKind.Object || root.EnumerateObject().Count() != 3
                || !root.TryGetProperty("head", out var head) || head.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("witnessKeyId", out var keyId) || keyId.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("witnessSig", out var sig) || sig.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            if (!AuditCheckpoint.TryParse(Encoding.UTF8.GetBytes(head.GetRawText()), out var parsed) || !parsed!.IsTreeHead)
            {
                return false;
            }

            witnessHead = new AuditWitnessHead(parsed, keyId.GetString()!, sig.GetString()!);
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            witnessHead = null;
            return false;
        }
    }

    private static byte[] SignedBytes(AuditCheckpoint head) => [.. Domain, .. head.ToJson()];
}
