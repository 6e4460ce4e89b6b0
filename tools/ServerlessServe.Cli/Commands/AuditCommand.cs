using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl audit verify</c>: checks every writer's hash chain and signed checkpoints; exit 1 names the first break. An
/// empty or missing container fails unless <c>--allow-empty</c>.
/// </summary>
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
        var allowEmpty = new Option<bool>("--allow-empty") { Description = "Pass when the container is missing or holds no audit record (a new deployment). Without it that fails, so a mistyped --container cannot pass." };
        var verify = new Command("verify", "Detect modified, deleted, reordered, truncated or unanchored audit records.") { state, connection, blobUri, container, checkpointKey, allowEmpty };
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
                if (report.IsEmpty)
                {
                    // Nothing to verify is not a pass: a typo in --container must not read as a sound trail.
                    var what = report.Chains.Count == 0
                        ? $"no audit chains found in container {blobs.Name}{(report.ContainerMissing ? " (it does not exist)" : string.Empty)}"
                        : $"no audit records found in container {blobs.Name} ({report.Chains.Count} empty chain(s))";
                    var allowed = parse.GetValue(allowEmpty);
                    Console.Out.WriteLine(allowed ? $"audit verify: OK (--allow-empty): {what}" : $"audit verify: FAILED: {what}");
                    return allowed ? 0 : 1;
                }

                var table = new Table().AddColumn("writer").AddColumn("records").AddColumn("last seq").AddColumn("checkpoints").AddColumn("unanchored").AddColumn("result");
                foreach (var chain in report.Chains)
                {
                    table.AddRow(
                        Markup.Escape(chain.WriterId),
                        chain.RecordsChecked.ToString(CultureInfo.InvariantCulture),
                        chain.LastSeq.ToString(CultureInfo.InvariantCulture),
                        chain.CheckpointsChecked.ToString(CultureInfo.InvariantCulture),
                        TailKnown(chain) ? chain.RecordsAfterLastCheckpoint.ToString(CultureInfo.InvariantCulture) : "-",
                        chain.Failure is null ? "[green]ok[/]" : $"[red]{Markup.Escape(chain.Failure.ToString())}[/]");
                }

                AnsiConsole.Write(table);
                foreach (var chain in report.Chains.Where(c => c.Failure is not null))
                {
                    // Plain line for scripts: writer, kind, sequence, blob and line.
                    Console.Out.WriteLine($"FAIL {chain.WriterId}: {chain.Failure}");
                }

                // Records after the last checkpoint could be cut without a finding: a short tail is a writer at work.
                var tail = report.Chains.Where(TailKnown).Sum(static c => c.RecordsAfterLastCheckpoint);
                var longest = report.Chains.Where(TailKnown).MaxBy(static c => c.RecordsAfterLastCheckpoint);
                var tailNote = tail == 0
                    ? "every record under a checkpoint"
                    : $"{tail} record(s) after the last checkpoint, at most {longest!.RecordsAfterLastCheckpoint} in {longest.WriterId}";
                Console.Out.WriteLine(report.Ok
                    ? $"audit verify: OK ({report.RecordsChecked} records in {report.Chains.Count} chain(s); {tailNote})"
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

    /// <summary>The tail count means something once records and checkpoints are sound (or there is no checkpoint at all).</summary>
    private static bool TailKnown(AuditChainReport chain) => chain.Failure is null or { Kind: AuditFailureKind.Unanchored };
}
