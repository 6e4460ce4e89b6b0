using System.CommandLine;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Artifacts.Lifecycle;

namespace ServerlessServe.Cli.Commands;

/// <summary>
/// The options of the commands that read or sign lifecycle documents and revocation lists: where the models container
/// is, which keys are trusted, and (when the command signs) the signing key.
/// </summary>
internal sealed class SigningOptionSet(bool signs)
{
    private readonly Option<DirectoryInfo?> _state = CommonOptions.State();
    private readonly Option<string?> _connection = CommonOptions.ConnectionString();
    private readonly Option<Uri?> _blobUri = CommonOptions.BlobUri();
    private readonly Option<FileInfo?> _signingKey = new("--signing-key") { Description = "PEM private key that signs the document; it must be one of the trusted keys. Default: the local model-signing key." };
    private readonly Option<FileInfo[]> _trustedKey = new("--trusted-key")
    {
        Description = "PEM public key of a trusted signer (repeatable): give every signer the instances trust. Default: the local model-signing key; required with --blob-uri.",
    };

    private readonly Option<bool> _skipUnverified = new("--skip-unverified")
    {
        Description = "Publish even when a newer stored document does not verify with the trusted keys (only for one known not to be genuine).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_state);
        command.Options.Add(_connection);
        command.Options.Add(_blobUri);
        command.Options.Add(_trustedKey);
        if (signs)
        {
            command.Options.Add(_signingKey);
            command.Options.Add(_skipUnverified);
        }

        // In Azure the local keys mean nothing: the documents are read and made with the deployment's signers, all of
        // them, or a signer the CLI does not know would be read as absent and its changes dropped.
        CommonOptions.RequireTrustedKeysWithBlobUri(command, _blobUri, _trustedKey);
    }

    /// <summary>Whether a newer stored document that does not verify may be passed over (<c>--skip-unverified</c>).</summary>
    public bool SkipUnverified(ParseResult parse) => parse.GetValue(_skipUnverified);

    public async Task<ECDsa> SignerAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var path = parse.GetValue(_signingKey)?.FullName ?? CommonOptions.ResolveState(parse.GetValue(_state)).ModelSigningKey;
        return SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// The control and model stores over the models container, trusting the given keys (a file that is missing is an
    /// error, never skipped), and the trusted set itself.
    /// </summary>
    public async Task<(ControlStore Control, ModelStore Models, TrustedSigners Trusted)> StoresAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var trusted = await CommonOptions.TrustedSignersAsync(parse.GetValue(_trustedKey), CommonOptions.ResolveState(parse.GetValue(_state)), cancellationToken).ConfigureAwait(false);
        var container = StorageConnections.Container(parse.GetValue(_connection), parse.GetValue(_blobUri), ModelStoreLayout.DefaultContainerName);
        return (new ControlStore(container, trusted), new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance), trusted);
    }
}
