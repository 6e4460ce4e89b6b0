using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Fuzz;

/// <summary>
/// The third fuzz target: what the audit verifier and a receipt's holder read from places an attacker may have written
/// to. The audit trail's threat is someone with write access to its storage (docs/audit.md), so every stored document is
/// input the verifier must survive: a crash there would hide a rewrite as well as a failed check does. The first byte
/// chooses the document; the rest is its bytes.
/// <list type="bullet">
/// <item><description>0: a record line of a chain segment;</description></item>
/// <item><description>1: a checkpoint or signed tree head;</description></item>
/// <item><description>2: a witness's countersigned copy of a tree head;</description></item>
/// <item><description>3: a caller's receipt (a compact JWS, one byte a character);</description></item>
/// <item><description>4: an inclusion proof.</description></item>
/// </list>
/// Each must parse or be refused without an exception. What parses must serialise to a form that parses back the same and
/// is a fixed point, and no signature may verify with a key nobody holds. Any exception, or a property that does not
/// hold, is a finding.
/// </summary>
public static class AuditTarget
{
    // A key nobody holds: a signature or proof that verifies with it is a forgery, so a finding.
    private static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>Runs one input; throws only on a finding.</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var document = input[1..];
        switch (input[0] % 5)
        {
            case 0:
                Record(document);
                break;
            case 1:
                Checkpoint(document);
                break;
            case 2:
                Witness(document);
                break;
            case 3:
                Receipt(Encoding.Latin1.GetString(document));
                break;
            default:
                Proof(document);
                break;
        }
    }

    private static void Record(ReadOnlySpan<byte> line)
    {
        if (!AuditRecord.TryParse(line, out var record, out var error))
        {
            Require(record is null && error is not null, "a refused record line gave a record or no reason");
            return;
        }

        // What the verifier does with every line it reads: the record's canonical bytes and hash.
        var canonical = record!.CanonicalBytes();
        _ = record.ComputeHash();
        var stored = record.ToJsonLine();
        Require(stored[^1] == (byte)'\n', "a record's stored line does not end in a line feed");
        Require(AuditRecord.TryParse(stored.AsSpan(0, stored.Length - 1), out var again, out _), "a record's stored line does not parse");
        Require(again!.CanonicalBytes().AsSpan().SequenceEqual(canonical) && again.Hash == record.Hash, "a record's stored line parses as another record");
        Require(again.ToJsonLine().AsSpan().SequenceEqual(stored), "a record's stored line is not a fixed point");
    }

    private static void Checkpoint(ReadOnlySpan<byte> json)
    {
        if (!AuditCheckpoint.TryParse(json, out var checkpoint))
        {
            return;
        }

        var stored = checkpoint!.ToJson();
        _ = checkpoint.HeadHash();
        Require(AuditCheckpoint.TryParse(stored, out var again), "a checkpoint's stored form does not parse");
        Require(again!.ToJson().AsSpan().SequenceEqual(stored) && again.IsTreeHead == checkpoint.IsTreeHead, "a checkpoint's stored form parses as another");
        Require(!checkpoint.VerifySignature(Key), "a checkpoint verified with a key nobody holds");
    }

    private static void Witness(ReadOnlySpan<byte> json)
    {
        if (!AuditWitnessHead.TryParse(json, out var witness))
        {
            return;
        }

        var stored = witness!.ToJson();
        Require(AuditWitnessHead.TryParse(stored, out var again), "a witness head's stored form does not parse");
        Require(again!.ToJson().AsSpan().SequenceEqual(stored), "a witness head's stored form parses as another");
        Require(!witness.VerifyWitnessSignature(Key), "a witness head verified with a key nobody holds");
    }

    private static void Receipt(string jws)
    {
        if (!AuditReceipt.TryParse(jws, out var receipt))
        {
            return;
        }

        _ = receipt!.Payload();
        Require(AuditReceipt.TryParse(receipt.Jws, out var again) && again == receipt, "a receipt does not parse back as itself");
        Require(!receipt.Verify([Key]), "a receipt verified with a key nobody holds");
    }

    private static void Proof(ReadOnlySpan<byte> json)
    {
        if (!AuditInclusionProof.TryParse(json, out var proof))
        {
            return;
        }

        var stored = proof!.ToJson();
        Require(AuditInclusionProof.TryParse(stored, out var again), "a proof's stored form does not parse");
        Require(
            again!.WriterId == proof.WriterId && again.Seq == proof.Seq && again.LeafHash == proof.LeafHash && again.TreeSize == proof.TreeSize
                && again.Path.SequenceEqual(proof.Path) && again.ToJson().AsSpan().SequenceEqual(stored),
            "a proof's stored form parses as another");
        Require(!proof.Verify([Key], out _), "a proof verified with a key nobody holds");
    }

    private static void Require(bool condition, string finding)
    {
        if (!condition)
        {
            throw new InvalidOperationException(finding);
        }
    }
}
