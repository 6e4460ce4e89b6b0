using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Azure.Storage.Blobs;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// <c>ssctl audit verify</c>: checks every writer's hash chain, Merkle tree and signed tree heads, and compares the heads
/// with the witness; exit 1 names the first break. An empty or missing container fails unless <c>--allow-empty</c>;
/// verifying without the witness needs <c>--no-witness</c>.
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
        var witnessContainer = new Option<string>("--witness-container") { Description = "Witness container.", DefaultValueFactory = _ => "audit-witness" };
        var witnessConnection = new Option<string?>("--witness-connection-string") { Description = "Connection string of the witness's storage account. Default: the log's account (local only)." };
        var witnessBlobUri = new Option<Uri?>("--witness-blob-uri") { CustomParser = CommonOptions.AbsoluteUri, Description = "Blob endpoint of the witness's storage account in Azure (DefaultAzureCredential)." };
        var witnessKey = new Option<FileInfo[]>("--witness-key") { Description = "PEM public key that countersigns witness heads (repeatable). Default: the local audit witness key." };
        var noWitness = new Option<bool>("--no-witness") { Description = "Verify without the witness (weaker: a log truncated to an older head, or stripped of its later heads, then passes)." };
        var maxUnanchored = new Option<long>("--max-unanchored") { Description = "Most records allowed after a chain's latest head (the writer's CheckpointEvery + MaxGroupRecords).", DefaultValueFactory = _ => 356 };
        var witnessLag = new Option<int>("--witness-lag-seconds") { Description = "How long a latest head may be missing from the witness.", DefaultValueFactory = _ => 300 };
        var verify = new Command("verify", "Detect modified, deleted, reordered, truncated or unanchored audit records, and logs that disagree with their witness.")
        {
            state, connection, blobUri, container, checkpointKey, allowEmpty, witnessContainer, witnessConnection, witnessBlobUri, witnessKey, noWitness, maxUnanchored, witnessLag,
        };
        verify.SetAction(async (parse, cancellationToken) =>
        {
            var localState = CommonOptions.ResolveState(parse.GetValue(state));
            var keyFiles = parse.GetValue(checkpointKey) is { Length: > 0 } files ? files.Select(f => f.FullName).ToArray() : [localState.AuditCheckpointPublicKey];
            var withWitness = !parse.GetValue(noWitness);
            var witnessKeyFiles = parse.GetValue(witnessKey) is { Length: > 0 } given ? given.Select(f => f.FullName).ToArray() : [localState.AuditWitnessPublicKey];
            if (withWitness && !witnessKeyFiles.All(File.Exists))
            {
                Console.Out.WriteLine($"audit verify: FAILED: no witness key at {string.Join(", ", witnessKeyFiles.Where(f => !File.Exists(f)))}; pass --witness-key, or --no-witness to verify without the witness");
                return 1;
            }

            var keys = new List<ECDsa>();
            var witnessKeys = new List<ECDsa>();
            try
            {
                keys.AddRange(keyFiles.Select(f => SigningKeys.ImportPem(File.ReadAllText(f))));
                var blobs = StorageConnections.Container(parse.GetValue(connection), parse.GetValue(blobUri), parse.GetValue(container)!);
                BlobContainerClient? witness = null;
                if (withWitness)
                {
                    witnessKeys.AddRange(witnessKeyFiles.Select(f => SigningKeys.ImportPem(File.ReadAllText(f))));
                    var witnessConnectionString = parse.GetValue(witnessConnection);
                    var witnessUri = parse.GetValue(witnessBlobUri);
                    witness = witnessConnectionString is null && witnessUri is null
                        ? StorageConnections.Container(parse.GetValue(connection), parse.GetValue(blobUri), parse.GetValue(witnessContainer)!)
                        : StorageConnections.Container(witnessConnectionString, witnessUri, parse.GetValue(witnessContainer)!);
                }

                var report = await AuditVerifier.VerifyAsync(blobs, new AuditVerificationOptions
                {
                    TrustedCheckpointKeys = keys,
                    Witness = witness,
                    TrustedWitnessKeys = witnessKeys,
                    MaxUnanchoredRecords = parse.GetValue(maxUnanchored),
                    WitnessLag = TimeSpan.FromSeconds(parse.GetValue(witnessLag)),
                }, cancellationToken).ConfigureAwait(false);
                if (report.WitnessMissing)
                {
                    // A witness asked for and not found is not an empty witness: a wrong --witness-blob-uri or container
                    // must not read as "heads match the witness".
                    Console.Out.WriteLine($"audit verify: FAILED: the witness container {witness!.Name} does not exist (check --witness-blob-uri / --witness-container, or pass --no-witness)");
                    return 1;
                }

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

                var table = new Table().AddColumn("writer").AddColumn("records").AddColumn("last seq").AddColumn("checkpoints").AddColumn("unanchored").AddColumn("witnessed").AddColumn("result");
                foreach (var chain in report.Chains)
                {
                    table.AddRow(
                        Markup.Escape(chain.WriterId),
                        chain.RecordsChecked.ToString(CultureInfo.InvariantCulture),
                        chain.LastSeq.ToString(CultureInfo.InvariantCulture),
                        chain.CheckpointsChecked.ToString(CultureInfo.InvariantCulture),
                        TailKnown(chain) ? chain.RecordsAfterLastCheckpoint.ToString(CultureInfo.InvariantCulture) : "-",
                        chain.WitnessedSeq is { } witnessed ? witnessed.ToString(CultureInfo.InvariantCulture) : "-",
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
                    ? $"audit verify: OK ({report.RecordsChecked} records in {report.Chains.Count} chain(s); {tailNote}; {(withWitness ? "heads match the witness" : "witness NOT checked (--no-witness)")})"
                    : "audit verify: FAILED");
                return report.Ok ? 0 : 1;
            }
            finally
            {
                keys.ForEach(k => k.Dispose());
                witnessKeys.ForEach(k => k.Dispose());
            }
        });
        audit.Subcommands.Add(verify);
        return audit;
    }

    /// <summary>The tail count means something once records and checkpoints are sound (or there is no checkpoint at all).</summary>
    private static bool TailKnown(AuditChainReport chain) =>
        chain.Failure is null or { Kind: AuditFailureKind.Unanchored or AuditFailureKind.UnanchoredTail or AuditFailureKind.WitnessAhead or AuditFailureKind.WitnessMismatch or AuditFailureKind.Unwitnessed };
}
