using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl receipt verify</c>: checks an audit inclusion proof offline (docs/audit.md, "Inclusion proofs"): the tree
/// head's signature by a trusted checkpoint key and the path from the record's leaf hash to the head's root; with
/// <c>--record</c>, also that the record line is the one the proof names.
/// </summary>
internal static class ReceiptCommand
{
    public static Command Build()
    {
        var receipt = new Command("receipt", "Check audit receipts offline.");
        var state = CommonOptions.State();
        var proofFile = new Option<FileInfo>("--proof") { Description = "Inclusion proof document (JSON).", Required = true };
        var recordFile = new Option<FileInfo?>("--record") { Description = "The audit record line the proof should be about (optional)." };
        var checkpointKey = new Option<FileInfo[]>("--checkpoint-key") { Description = "PEM public key that signs tree heads (repeatable). Default: the local audit checkpoint key." };
        var verify = new Command("verify", "Check that a record is in the audit log under a signed tree head.") { state, proofFile, recordFile, checkpointKey };
        verify.SetAction(parse =>
        {
            var localState = CommonOptions.ResolveState(parse.GetValue(state));
            var keyFiles = parse.GetValue(checkpointKey) is { Length: > 0 } files ? files.Select(f => f.FullName).ToArray() : [localState.AuditCheckpointPublicKey];
            var keys = new List<ECDsa>();
            try
            {
                keys.AddRange(keyFiles.Select(f => SigningKeys.ImportPem(File.ReadAllText(f))));
                if (!AuditInclusionProof.TryParse(File.ReadAllBytes(parse.GetValue(proofFile)!.FullName), out var proof))
                {
                    Console.Out.WriteLine("receipt verify: FAILED: the proof is not an audit inclusion proof");
                    return 1;
                }

                if (!proof!.Verify(keys, out var error))
                {
                    Console.Out.WriteLine($"receipt verify: FAILED: {error}");
                    return 1;
                }

                if (parse.GetValue(recordFile) is { } record)
                {
                    var line = File.ReadAllText(record.FullName).TrimEnd('\n', '\r');
                    if (!AuditRecord.TryParse(Encoding.UTF8.GetBytes(line), out var parsed, out var parseError) || !proof.Covers(parsed!))
                    {
                        Console.Out.WriteLine($"receipt verify: FAILED: the record is not the one the proof is about{(parseError is null ? string.Empty : $" ({parseError})")}");
                        return 1;
                    }
                }

                Console.Out.WriteLine($"receipt verify: OK (writer {proof.WriterId}, seq {proof.Seq} is in the tree of {proof.TreeSize} records under a signed head)");
                return 0;
            }
            finally
            {
                keys.ForEach(k => k.Dispose());
            }
        });
        receipt.Subcommands.Add(verify);
        return receipt;
    }
}
