using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;
using ServerlessServe.Local.Samples;
using Spectre.Console;

namespace ServerlessServe.Cli.Commands;

/// <summary><c>ssctl model publish|pack|publish-packages|verify|samples|lifecycle|revoke|revoke-signer|revocations</c>.</summary>
internal static class ModelCommand
{
    public static Command Build()
    {
        var model = new Command("model", "Sign, publish and verify model versions.");
        model.Subcommands.Add(Publish());
        model.Subcommands.Add(Pack());
        model.Subcommands.Add(PublishPackages());
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
        var trustedKey = new Option<FileInfo[]>("--trusted-key")
        {
            Description = "PEM public key of a model signer the instances trust (repeatable); the signing key must be one, and not revoked. Default: the local model-signing key; required with --blob-uri.",
        };
        var skipUnverified = SkipUnverified();
        var command = new Command("publish", "Sign a model version and upload it write-once.") { directory, name, version, state, connection, blobUri, signingKey, trustedKey, trainingData, skipUnverified };
        CommonOptions.RequireTrustedKeysWithBlobUri(command, blobUri, trustedKey);
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
            catch (Exception ex) when (ex is Core.Pipeline.RefusedException or Core.Policy.PolicyException or ModelVerificationException or IOException or InvalidDataException or FormatException or ArgumentException)
            {
                AnsiConsole.MarkupLine($"[red]Cannot package {Markup.Escape(dir.FullName)}:[/] {Markup.Escape(ex.Message)}");
                return 1;
            }

            var container = StorageConnections.Container(parse.GetValue(connection), parse.GetValue(blobUri), ModelStoreLayout.DefaultContainerName);
            using var trusted = await CommonOptions.TrustedSignersAsync(parse.GetValue(trustedKey), localState, cancellationToken).ConfigureAwait(false);
            var store = new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
            await store.CreateContainerIfNotExistsAsync(cancellationToken).ConfigureAwait(false);

            // A version stored write-once under a signer the instances refuse would never serve, and its number could
            // not be used again: checked before anything is written.
            if (!trusted.KeyIds.Contains(package.Manifest.SignerKeyId))
            {
                AnsiConsole.MarkupLine($"[red]Not published:[/] the signing key {package.Manifest.SignerKeyId} is not one of the trusted keys, so no instance would serve the version.");
                return 1;
            }

            var (revocations, unverifiedList) = await new ControlStore(container, trusted).RevocationsInForceAsync(cancellationToken).ConfigureAwait(false);
            if (RefusedForUnverified(unverifiedList, parse.GetValue(skipUnverified)))
            {
                return 1;
            }

            if (revocations.RevokesSigner(package.Manifest.SignerKeyId))
            {
                AnsiConsole.MarkupLine($"[red]Not published:[/] the signing key {package.Manifest.SignerKeyId} is revoked (revocation list {revocations.Sequence}).");
                return 1;
            }

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

    /// <summary>The largest package <c>publish-packages</c> reads (expanded), as the admin app's default.</summary>
    private const long MaxPackageBytes = 1L << 30;

    private static Command Pack()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Folder holding model.onnx and policy.json." };
        var output = new Option<FileInfo>("--out") { Description = "The package to write: a zip of the signed version's files (what the admin app's publish and publish-packages take).", Required = true };
        var name = new Option<string?>("--name") { Description = "Model name. Default: the parent folder's name (DIR is {name}/{version})." };
        var version = new Option<string?>("--version") { Description = "Version. Default: DIR's name." };
        var state = CommonOptions.State();
        var signingKey = new Option<FileInfo?>("--signing-key") { Description = "PEM private key that signs the manifest. Default: the local model-signing key." };
        var trainingData = new Option<FileInfo?>("--training-data")
        {
            Description = "CSV (or .csv.gz) of training rows for the policy's out-of-distribution screen, as for publish: their statistics are signed into the package as profile.json.",
        };
        var command = new Command("pack", "Sign a model version into a package file, to publish from elsewhere: the signing key stays here.") { directory, output, name, version, state, signingKey, trainingData };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dir = parse.GetValue(directory)!;
            var modelName = parse.GetValue(name) ?? dir.Parent?.Name ?? "";
            var modelVersion = parse.GetValue(version) ?? dir.Name;
            var keyPath = parse.GetValue(signingKey)?.FullName ?? CommonOptions.ResolveState(parse.GetValue(state)).ModelSigningKey;
            using var signer = SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(keyPath, cancellationToken).ConfigureAwait(false));
            ModelPackage package;
            try
            {
                byte[]? profile = parse.GetValue(trainingData) is { } training
                    ? await ProfileAsync(dir, training, cancellationToken).ConfigureAwait(false)
                    : null;
                package = await ModelPackager.PackDirectoryAsync(dir.FullName, modelName, modelVersion, signer, TimeProvider.System.GetUtcNow(), profile, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Core.Pipeline.RefusedException or Core.Policy.PolicyException or ModelVerificationException or IOException or InvalidDataException or FormatException or ArgumentException)
            {
                AnsiConsole.MarkupLine($"[red]Cannot package {Markup.Escape(dir.FullName)}:[/] {Markup.Escape(ex.Message)}");
                return 1;
            }

            var file = parse.GetValue(output)!;
            file.Directory?.Create();
            await File.WriteAllBytesAsync(file.FullName, PackageArchive.Write(package), cancellationToken).ConfigureAwait(false);

            AnsiConsole.MarkupLine($"[green]Packed[/] {Markup.Escape(modelName)} {Markup.Escape(modelVersion)} into {Markup.Escape(file.FullName)}  manifest sha256 {package.ManifestDigest}  signer {package.Manifest.SignerKeyId}");
            return 0;
        });
        return command;
    }

    private static Command PublishPackages()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "Folder of package files (*.zip) made by `ssctl model pack`." };
        var connection = CommonOptions.ConnectionString();
        var blobUri = CommonOptions.BlobUri();
        var trustedKey = new Option<FileInfo[]>("--trusted-key") { Description = "PEM public key of a trusted signer (repeatable)." };
        var trustedKeyPem = new Option<string[]>("--trusted-key-pem") { Description = "A trusted signer's PEM public key, as text (repeatable)." };
        var skipUnverified = SkipUnverified();
        var command = new Command(
            "publish-packages",
            "Verify signed packages with the trusted signers' public keys and upload them write-once; no signing key is needed. A version already published is skipped. Exit 1 when any package fails verification or upload.")
        {
            directory, connection, blobUri, trustedKey, trustedKeyPem, skipUnverified,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var pems = (parse.GetValue(trustedKey) ?? []).Select(f => File.ReadAllText(f.FullName)).Concat(parse.GetValue(trustedKeyPem) ?? []).Where(p => p.Trim().Length > 0).ToList();
            if (pems.Count == 0)
            {
                AnsiConsole.MarkupLine("[red]No trusted signer:[/] give --trusted-key or --trusted-key-pem; nothing is published unverified.");
                return 1;
            }

            using var trusted = TrustedSigners.FromPem(pems);
            var container = StorageConnections.Container(parse.GetValue(connection), parse.GetValue(blobUri), ModelStoreLayout.DefaultContainerName);
            var store = new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
            var files = parse.GetValue(directory)!.GetFiles("*.zip").OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                AnsiConsole.MarkupLine($"[yellow]No packages (*.zip) in {Markup.Escape(parse.GetValue(directory)!.FullName)}.[/]");
                return 0;
            }

            // A signer the revocation list in force revokes publishes nothing: stored write-once, its version would never
            // serve and its number could not be used again (`model publish` and the admin plane refused it; this command
            // did not, before 2026-12-07).
            var (revocations, unverifiedList) = await new ControlStore(container, trusted).RevocationsInForceAsync(cancellationToken).ConfigureAwait(false);
            if (RefusedForUnverified(unverifiedList, parse.GetValue(skipUnverified)))
            {
                return 1;
            }

            var failed = 0;
            foreach (var file in files)
            {
                ModelPackage package;
                try
                {
                    await using var stream = file.OpenRead();
                    package = PackageVerifier.Verify(await PackageArchive.ReadAsync(stream, MaxPackageBytes, cancellationToken).ConfigureAwait(false), trusted);
                }
                catch (ModelVerificationException ex)
                {
                    AnsiConsole.MarkupLine($"[red]Refused[/] {Markup.Escape(file.Name)}: {Markup.Escape(ex.Failure.ToString().ToLowerInvariant())}: {Markup.Escape(ex.Message)}");
                    failed++;
                    continue;
                }

                if (revocations.RevokesSigner(package.Manifest.SignerKeyId))
                {
                    AnsiConsole.MarkupLine($"[red]Refused[/] {Markup.Escape(file.Name)}: the signing key {package.Manifest.SignerKeyId} is revoked (revocation list {revocations.Sequence})");
                    failed++;
                    continue;
                }

                try
                {
                    var digest = await store.PublishAsync(package, null, cancellationToken).ConfigureAwait(false);
                    AnsiConsole.MarkupLine($"[green]Published[/] {Markup.Escape(package.Manifest.Name)} {Markup.Escape(package.Manifest.Version)}  manifest sha256 {digest}  signer {package.Manifest.SignerKeyId}");
                }
                catch (ModelVersionExistsException ex)
                {
                    // Skipped only when what is stored is this package's content, signed by a trusted key: anything
                    // else under the version's name (other files, an interrupted publish of other content) would
                    // never be what this package says, and is a failure.
                    if (await StoredMatchesAsync(store, package, cancellationToken).ConfigureAwait(false))
                    {
                        AnsiConsole.MarkupLine($"[yellow]Skipped[/] {Markup.Escape(package.Manifest.Name)} {Markup.Escape(package.Manifest.Version)}: already published with the same files (versions are immutable)");
                    }
                    else
                    {
                        AnsiConsole.MarkupLine($"[red]Failed[/] {Markup.Escape(package.Manifest.Name)} {Markup.Escape(package.Manifest.Version)}: the version is stored with other content or is incomplete ({Markup.Escape(ex.Message)}); publish a new version");
                        failed++;
                    }
                }
                catch (Exception ex) when (ex is Azure.RequestFailedException or IOException)
                {
                    AnsiConsole.MarkupLine($"[red]Failed[/] {Markup.Escape(package.Manifest.Name)} {Markup.Escape(package.Manifest.Version)}: {Markup.Escape(ex.Message)}");
                    failed++;
                }
            }

            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static Option<bool> SkipUnverified() => new("--skip-unverified")
    {
        Description = "Go on when a newer stored revocation list does not verify with the trusted keys given (only for one known not to be genuine).",
    };

    private static bool RefusedForUnverified(long unverified, bool skip)
    {
        if (unverified == 0 || skip)
        {
            return false;
        }

        AnsiConsole.MarkupLine($"[red]Revocation list {unverified} does not verify with the trusted keys given:[/] what it revokes is not known. Give every signer the instances trust, or --skip-unverified if that list is not genuine.");
        return true;
    }

    // Whether the stored version verifies with the trusted keys and pins the same files as the package (the manifest
    // itself differs between two packs of one folder: its creation time).
    private static async Task<bool> StoredMatchesAsync(ModelStore store, ModelPackage package, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await store.VerifyAsync(package.Manifest.Name, package.Manifest.Version, verifyModelDigest: true, cancellationToken).ConfigureAwait(false);
            var wanted = package.Manifest.Files;
            return stored.Manifest.Files.Count == wanted.Count && stored.Manifest.Files.All(f => wanted.TryGetValue(f.Key, out var pin) && pin == f.Value);
        }
        catch (Exception ex) when (ex is ModelVerificationException or ModelNotFoundException)
        {
            return false;
        }
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
        var skipUnverified = SkipUnverified();
        var command = new Command("verify", "Verify signature, digests, policy and graph of stored versions, and that the signed revocation list in force names neither them nor their signer.") { name, version, state, connection, blobUri, trustedKey, skipUnverified };
        CommonOptions.RequireTrustedKeysWithBlobUri(command, blobUri, trustedKey);
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

            // What the instances also hold against a version: the revocation list in force (a newer one that the keys
            // given cannot verify is a failure, not a list to ignore). Before 2026-12-07 a revoked version, or one signed
            // by a revoked key, was shown "ok": after a key compromise, the versions to distrust looked trusted.
            var (revocations, unverifiedList) = await new ControlStore(container, trusted).RevocationsInForceAsync(cancellationToken).ConfigureAwait(false);
            var failures = RefusedForUnverified(unverifiedList, parse.GetValue(skipUnverified)) ? 1 : 0;

            var table = new Table().AddColumn("version").AddColumn("result").AddColumn("manifest sha256").AddColumn("signer");
            foreach (var v in versions)
            {
                try
                {
                    var loaded = await store.LoadAsync(modelName, v, cancellationToken).ConfigureAwait(false);
                    if (revocations.RevokesSigner(loaded.Version.Manifest.SignerKeyId) || revocations.Revokes(loaded.Version))
                    {
                        failures++;
                        var why = revocations.RevokesSigner(loaded.Version.Manifest.SignerKeyId) ? "signer revoked" : "revoked";
                        table.AddRow(Markup.Escape(v), $"[red]{why} (revocation list {revocations.Sequence})[/]", loaded.Version.ManifestDigest, loaded.Version.Manifest.SignerKeyId);
                        continue;
                    }

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
        var skipResNet = new Option<bool>("--skip-resnet") { Description = "Do not write the 64 MB ResNet18 sample." };
        var command = new Command("samples", "Build the sample models (deterministic) into a folder.") { output, skipResNet };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var written = await SampleModels.WriteAllAsync(parse.GetValue(output)!.FullName, !parse.GetValue(skipResNet), cancellationToken).ConfigureAwait(false);
            foreach (var sample in written)
            {
                AnsiConsole.MarkupLine($"{Markup.Escape(sample.Name)} {Markup.Escape(sample.Version)} → {Markup.Escape(sample.Directory)}");
            }

            return 0;
        });
        return command;
    }
}
