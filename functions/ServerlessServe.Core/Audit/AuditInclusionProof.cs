using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Proof that a record is in a writer's audit log (the core of a receipt): its leaf hash, the RFC 9162 §2.1.3 inclusion
/// path and the signed tree head it leads to. Checked offline with the checkpoint public key only:
/// <c>{"v":1,"writerId","seq","leafHash","treeSize","path":[hex…],"head":{…the tree head as stored…}}</c>.
/// </summary>
public sealed record AuditInclusionProof(string WriterId, long Seq, string LeafHash, long TreeSize, IReadOnlyList<string> Path, string HeadJson)
{
    /// <summary>The document format.</summary>
    public const int FormatVersion = 1;

    /// <summary>The proof document (UTF-8 JSON).</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", FormatVersion);
            writer.WriteString("writerId", WriterId);
            writer.WriteNumber("seq", Seq);
            writer.WriteString("leafHash", LeafHash);
            writer.WriteNumber("treeSize", TreeSize);
            writer.WriteStartArray("path");
            foreach (var node in Path)
            {
                writer.WriteStringValue(node);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("head");
            writer.WriteRawValue(HeadJson);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Parses a proof document; verifies nothing.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out AuditInclusionProof? proof)
    {
        proof = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 3 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.GetProperty("v").GetInt32() != FormatVersion)
            {
                return false;
            }

            var path = root.GetProperty("path").EnumerateArray().Select(static e => e.GetString()!).ToList();
            proof = new AuditInclusionProof(
                root.GetProperty("writerId").GetString()!,
                root.GetProperty("seq").GetInt64(),
                root.GetProperty("leafHash").GetString()!,
                root.GetProperty("treeSize").GetInt64(),
                path,
                root.GetProperty("head").GetRawText());
            return proof.WriterId is not null && proof.LeafHash is not null && path.All(static p => p is not null);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            proof = null;
            return false;
        }
    }

    /// <summary>
    /// True when the head is a tree head of <see cref="WriterId"/> at <see cref="TreeSize"/> signed by one of
    /// <paramref name="trustedKeys"/>, and the path leads from <see cref="LeafHash"/> at leaf <see cref="Seq"/> − 1 to its
    /// root. <paramref name="error"/> says what failed.
    /// </summary>
    public bool Verify(IReadOnlyCollection<ECDsa> trustedKeys, out string? error)
    {
        ArgumentNullException.ThrowIfNull(trustedKeys);
        if (!AuditCheckpoint.TryParse(Encoding.UTF8.GetBytes(HeadJson), out var head) || !head!.IsTreeHead)
        {
            error = "the head is not a signed tree head";
            return false;
        }

        if (!trustedKeys.Any(key => head.VerifySignature(key)))
        {
            error = "the head is not validly signed by a trusted checkpoint key";
            return false;
        }

        if (!string.Equals(head.WriterId, WriterId, StringComparison.Ordinal) || head.Seq != TreeSize)
        {
            error = "the head is not the one the proof names";
            return false;
        }

        if (!AuditCheckpoint.IsHex64(LeafHash) || Path.Any(static p => !AuditCheckpoint.IsHex64(p))
            || !MerkleHash.VerifyInclusion(Seq - 1, TreeSize, Convert.FromHexString(LeafHash), Path.Select(Convert.FromHexString).ToList(), Convert.FromHexString(head.Root!)))
        {
            error = "the inclusion path does not lead from the leaf to the head's root";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>True when <paramref name="record"/> is the record this proof is about (writer, seq and leaf hash of its canonical bytes).</summary>
    public bool Covers(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return string.Equals(record.WriterId, WriterId, StringComparison.Ordinal)
            && record.Seq == Seq
            && string.Equals(Convert.ToHexStringLower(MerkleHash.Leaf(record.CanonicalBytes())), LeafHash, StringComparison.Ordinal);
    }
}
