using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Local.Samples;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary><c>ssctl model publish|verify|samples|lifecycle|revoke|revoke-signer|revocations</c>.</summary>
internal static class ModelCommand
{
    public static Command Build()
    {
        var model = new Command("model", "Sign, publish and verify model versions.");
        model.Subcommands.Add(Publish());
        model.Subcommands.Add(Verify());
        model.Subcommands.Add(Samples());
        model.Subcommands.Add(ModelLifecycleCommands.Lifecycle());
        foreach (var command in ModelLifecycleCommands.Revocation())
        {
            model.Subcommands.Add(command);
        }

        return model;
    }

    private static Command Publish()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Folder holding model.onnx and policy.json." };
        var name = new Option<string?>("--name") { Description = "Model name. Default: the parent folder's name (DIR is {name}/{version})." };
        var version = new Option<string?>("--version") { Description = "Version. Default: DIR's name." };
        var state = CommonOptions.State();
        var connection = CommonOptions.ConnectionString();
        var blobUri = CommonOptions.BlobUri();
        var signingKey = new Option<FileInfo?>("--signing-key") { Description = "PEM private key that signs the manifest. Default: the local model-signing key." };
        var trainingData = new Option<FileInfo?>("--training-data")
        {
            Description = "CSV (or .csv.gz) of training rows for the policy's out-of-distribution screen: one row per line, the input's features and an optional trailing label. Its statistics are signed into the version as profile.json.",
        };
        var command = new Command("publish", "Sign a model version and upload it write-once.") { directory, name, version, state, connection, blobUri, signingKey, trainingData };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(directory)!;
            var modelName = parse.GetValue(name) ?? dir.Parent?.Name ?? "";
            var modelVersion = parse.GetValue(version) ?? dir.Name;
            var localState = CommonOptions.ResolveState(parse.GetValue(state));
            var keyPath = parse.GetValue(signingKey)?.FullName ?? localState.ModelSigningKey;
            using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(keyPath, cancellationToken).ConfigureAwait(false));
            ModelPackage package;
            try
            {
                byte[]? profile = parse.GetValue(trainingData) is { } training
                    ? await ProfileAsync(dir, training, cancellationToken).ConfigureAwait(false)
                    : null;
                package = await ModelPackager.PackDirectoryAsync(dir.FullName, modelName, modelVersion, signer, TimeProvider.System.GetUtcNow(), profile, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Core.Pipeline.RefusedException or Core.Policy.PolicyException or ModelVerificationException or IOException or FormatException or ArgumentException)
            {
                AnsiConsole.MarkupLine($"[red]Cannot package {Markup.Escape(dir.FullName)}:[/] {Markup.Escape(ex.Message)}");
                return 1;
            }

            var container = StorageConnections.Container(parse.GetValue(connection), parse.GetValue(blobUri), ModelStoreLayout.DefaultContainerName);
            using var trusted = TrustedSigners.FromKeys(signer);
            var store = new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
            await store.CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var digest = await AnsiConsole.Progress().StartAsync(async ctx =>
                {
                    var task = ctx.AddTask($"{Markup.Escape(modelName)} {Markup.Escape(modelVersion)}", maxValue: Math.Max(1, package.ContentBytes));
                    var result = await store.PublishAsync(package, new Progress<long>(b => task.Value = b), cancellationToken).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                    return result;
                }).ConfigureAwait(false);
                AnsiConsole.MarkupLine($"[green]Published[/] {Markup.Escape(modelName)} {Markup.Escape(modelVersion)}  manifest sha256 {digest}  signer {package.Manifest.SignerKeyId}");
                return 0;
            }
            catch (ModelVersionExistsException)
            {
                AnsiConsole.MarkupLine($"[red]{Markup.Escape(modelName)} {Markup.Escape(modelVersion)} already exists.[/] Versions are immutable: publish a new version.");
                return 1;
            }
        });
        return command;
    }

    // The training rows' statistics for the policy's ood screen (profile.json).
    private static async Task<byte[]> ProfileAsync(DirectoryInfo dir, FileInfo training, CancellationToken cancellationToken)
    {
        var model = await File.ReadAllBytesAsync(Path.Combine(dir.FullName, ModelStoreLayout.ModelFile), cancellationToken).ConfigureAwait(false);
        var policy = await File.ReadAllBytesAsync(Path.Combine(dir.FullName, ModelStoreLayout.PolicyFile), cancellationToken).ConfigureAwait(false);
        await using var file = training.OpenRead();
        Stream stream = training.Name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : file;
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream);
            return ModelPackager.ProfileFor(model, policy, reader);
        }
    }

    private static Command Verify()
    {
        var name = new Argument<string>("NAME") { Description = "Model name." };
        var version = new Option<string?>("--version") { Description = "Version. Default: every version." };
        var state = CommonOptions.State();
        var connection = CommonOptions.ConnectionString();
        var blobUri = CommonOptions.BlobUri();
        var trustedKey = new Option<FileInfo[]>("--trusted-key") { Description = "PEM public key of a trusted signer (repeatable). Default: the local model-signing key." };
        var command = new Command("verify", "Verify signature, digests, policy and graph of stored versions.") { name, version, state, connection, blobUri, trustedKey };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var localState = CommonOptions.ResolveState(parse.GetValue(state));
            var keyFiles = parse.GetValue(trustedKey) is { Length: > 0 } files ? files.Select(f => f.FullName) : [localState.ModelSigningPublicKey];
            using var trusted = TrustedSigners.FromPem(keyFiles.Select(File.ReadAllText));
            var container = StorageConnections.Container(parse.GetValue(connection), parse.GetValue(blobUri), ModelStoreLayout.DefaultContainerName);
            var store = new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
            var modelName = parse.GetValue(name)!;
            var versions = parse.GetValue(version) is { } one ? [one] : await store.ListVersionsAsync(modelName, cancellationToken).ConfigureAwait(false);
            if (versions.Count == 0)
            {
                AnsiConsole.MarkupLine($"[red]No versions of {Markup.Escape(modelName)}.[/]");
                return 1;
            }

            var failures = 0;
            var table = new Table().AddColumn("version").AddColumn("result").AddColumn("manifest sha256").AddColumn("signer");
            foreach (var v in versions)
            {
                try
                {
                    var loaded = await store.LoadAsync(modelName, v, cancellationToken).ConfigureAwait(false);
                    table.AddRow(Markup.Escape(v), "[green]ok[/]", loaded.Version.ManifestDigest, loaded.Version.Manifest.SignerKeyId);
                }
                catch (Exception ex) when (ex is ModelVerificationException or ModelNotFoundException or Core.Pipeline.RefusedException)
                {
                    failures++;
                    table.AddRow(Markup.Escape(v), $"[red]{Markup.Escape(ex.Message)}[/]", "", "");
                }
            }

            AnsiConsole.Write(table);
            return failures == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Samples()
    {
        var output = new Argument<DirectoryInfo>("OUT") { Description = "Folder to write {model}/{version}/model.onnx + policy.json into." };
        var command = new Command("samples", "Build the sample models (deterministic) into a folder.") { output };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var written = await SampleModels.WriteAllAsync(parse.GetValue(output)!.FullName, cancellationToken).ConfigureAwait(false);
            foreach (var sample in written)
            {
                AnsiConsole.MarkupLine($"{Markup.Escape(sample.Name)} {Markup.Escape(sample.Version)} → {Markup.Escape(sample.Directory)}");
            }

            return 0;
        });
        return command;
    }
}
