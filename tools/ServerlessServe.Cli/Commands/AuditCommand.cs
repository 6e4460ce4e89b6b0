using System.CommandLine;
using System.Security.Cryptography;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary><c>ssctl audit verify</c>: checks every writer's hash chain and signed checkpoints; exit 1 names the first break.</summary>
internal static class AuditCommand
{
    public static Command Build()
    {
        var audit = new Command("audit", "Inspect the audit trail.");
        var state = CommonOptions.State();
        var connection = CommonOptions.ConnectionString();
        var blobUri = CommonOptions.BlobUri();
        var container = new Option<string>("--container") { Description = "Audit container.", DefaultValueFactory = _ => "audit" };
        var checkpointKey = new Option<FileInfo[]>("--checkpoint-key") { Description = "PEM public key that signs checkpoints (repeatable). Default: the local audit checkpoint key." };
        var verify = new Command("verify", "Detect modified, deleted, reordered or truncated audit records.") { state, connection, blobUri, container, checkpointKey };
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var localState = CommonOptions.ResolveState(parse.GetValue(state));
            var keyFiles = parse.GetValue(checkpointKey) is { Length: > 0 } files ? files.Select(f => f.FullName).ToArray() : [localState.AuditCheckpointPublicKey];
            var keys = new List<ECDsa>();
            try
            {
                keys.AddRange(keyFiles.Select(f => SigningKeys.ImportPem(File.ReadAllText(f))));
                var blobs = StorageConnections.Container(parse.GetValue(connection), parse.GetValue(blobUri), parse.GetValue(container)!);
                var report = await AuditVerifier.VerifyAsync(blobs, keys, cancellationToken).ConfigureAwait(false);
                var table = new Table().AddColumn("writer").AddColumn("records").AddColumn("last seq").AddColumn("checkpoints").AddColumn("result");
                foreach (var chain in report.Chains)
                {
                    table.AddRow(
                        Markup.Escape(chain.WriterId),
                        chain.RecordsChecked.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        chain.LastSeq.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        chain.CheckpointsChecked.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        chain.Failure is null ? "[green]ok[/]" : $"[red]{Markup.Escape(chain.Failure.ToString())}[/]");
                }

                AnsiConsole.Write(table);
                foreach (var chain in report.Chains.Where(c => c.Failure is not null))
                {
                    // Plain line for scripts: writer, kind, sequence, blob and line.
                    Console.Out.WriteLine($"FAIL {chain.WriterId}: {chain.Failure}");
                }

                Console.Out.WriteLine(report.Ok
                    ? $"audit verify: OK ({report.RecordsChecked} records in {report.Chains.Count} chain(s))"
                    : "audit verify: FAILED");
                return report.Ok ? 0 : 1;
            }
            finally
            {
                keys.ForEach(k => k.Dispose());
            }
        });
        audit.Subcommands.Add(verify);
        return audit;
    }
}
