using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl receipt verify</c>: checks a signed receipt and its inclusion proof offline (docs/audit.md, "Inclusion proofs
/// and receipts"): the receipt's signature by a trusted checkpoint key; the tree head's signature and the path from the
/// record's leaf hash to the head's root; that the proof is about the receipt's leaf; with <c>--record</c>, also that the
/// record line is the one both name.
/// </summary>
internal static class ReceiptCommand
{
    public static Command Build()
    {
        var receipt = new Command("receipt", "Check audit receipts offline.");
        var state = CommonOptions.State();
        var receiptOption = new Option<string?>("--receipt") { Description = "The receipt: a file holding the x-audit-receipt header value, or the value itself." };
        var proofFile = new Option<FileInfo?>("--proof") { Description = "Inclusion proof document (JSON, from GET /api/audit/proofs/{requestId})." };
        var recordFile = new Option<FileInfo?>("--record") { Description = "The audit record line the receipt or proof should be about (optional)." };
        var checkpointKey = new Option<FileInfo[]>("--checkpoint-key") { Description = "PEM public key that signs receipts and tree heads (repeatable). Default: the local audit checkpoint key." };
        var verify = new Command("verify", "Check a receipt's signature, that its record is in the audit log under a signed tree head, or both.") { state, receiptOption, proofFile, recordFile, checkpointKey };
        verify.SetAction(parse =>
        {
            var localState = CommonOptions.ResolveState(parse.GetValue(state));
            var keyFiles = parse.GetValue(checkpointKey) is { Length: > 0 } files ? files.Select(f => f.FullName).ToArray() : [localState.AuditCheckpointPublicKey];
            var keys = new List<ECDsa>();
            try
            {
                keys.AddRange(keyFiles.Select(f => SigningKeys.ImportPem(File.ReadAllText(f))));
                return Verify(parse.GetValue(receiptOption), parse.GetValue(proofFile), parse.GetValue(recordFile), keys);
            }
            finally
            {
                keys.ForEach(k => k.Dispose());
            }
        });
        receipt.Subcommands.Add(verify);
        return receipt;
    }

    private static int Verify(string? receiptValue, FileInfo? proofFile, FileInfo? recordFile, List<ECDsa> keys)
    {
        if (receiptValue is null && proofFile is null)
        {
            return Fail("give --receipt, --proof or both");
        }

        AuditReceipt? receipt = null;
        if (receiptValue is not null)
        {
            var text = File.Exists(receiptValue) ? File.ReadAllText(receiptValue).Trim() : receiptValue.Trim();
            if (!AuditReceipt.TryParse(text, out receipt))
            {
                return Fail("the receipt is not an audit receipt");
            }

            if (!receipt!.Verify(keys))
            {
                return Fail("the receipt is not validly signed by a trusted checkpoint key");
            }
        }

        AuditInclusionProof? proof = null;
        if (proofFile is not null)
        {
            if (!AuditInclusionProof.TryParse(File.ReadAllBytes(proofFile.FullName), out proof))
            {
                return Fail("the proof is not an audit inclusion proof");
            }

            if (!proof!.Verify(keys, out var error))
            {
                return Fail(error!);
            }

            if (receipt is not null && !receipt.Matches(proof))
            {
                return Fail("the proof is about another record than the receipt (writer, seq or leaf hash differ)");
            }
        }

        if (recordFile is not null)
        {
            var line = File.ReadAllText(recordFile.FullName).TrimEnd('\n', '\r');
            if (!AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var parsed, out var parseError)
                || (proof is not null && !proof.Covers(parsed!))
                || (receipt is not null && !receipt.Matches(parsed!)))
            {
                return Fail($"the record is not the one the receipt or proof is about{(parseError is null ? string.Empty : $" ({parseError})")}");
            }
        }

        if (receipt is not null)
        {
            Console.Out.WriteLine($"receipt verify: receipt OK (request {receipt.RequestId}: {receipt.Outcome}, model {receipt.Model ?? "-"} version {receipt.ModelVersion ?? "-"}, writer {receipt.WriterId} seq {receipt.Seq}, signed by {receipt.KeyId})");
        }

        if (proof is not null)
        {
            Console.Out.WriteLine($"receipt verify: OK (writer {proof.WriterId}, seq {proof.Seq} is in the tree of {proof.TreeSize} records under a signed head)");
        }

        return 0;
    }

    private static int Fail(string why)
    {
        Console.Out.WriteLine($"receipt verify: FAILED: {why}");
        return 1;
    }
}
