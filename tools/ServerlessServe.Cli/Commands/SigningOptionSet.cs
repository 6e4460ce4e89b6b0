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
    private readonly Option<FileInfo?> _signingKey = new("--signing-key") { Description = "PEM private key that signs the document. Default: the local model-signing key." };
    private readonly Option<FileInfo[]> _trustedKey = new("--trusted-key") { Description = "PEM public key of a trusted signer (repeatable). Default: the local model-signing key." };

    public void AddTo(Command command)
    {
        command.Options.Add(_state);
        command.Options.Add(_connection);
        command.Options.Add(_blobUri);
        command.Options.Add(_trustedKey);
        if (signs)
        {
            command.Options.Add(_signingKey);
        }
    }

    public async Task<ECDsa> SignerAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var path = parse.GetValue(_signingKey)?.FullName ?? CommonOptions.ResolveState(parse.GetValue(_state)).ModelSigningKey;
        return SigningKeys.ImportPrivateKeyPem(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The control and model stores over the models container, trusting the given keys and <paramref name="signer"/>.</summary>
    public async Task<(ControlStore Control, ModelStore Models)> StoresAsync(ParseResult parse, CancellationToken cancellationToken, ECDsa? signer = null)
    {
        var files = parse.GetValue(_trustedKey) is { Length: > 0 } given
            ? given.Select(f => f.FullName)
            : [CommonOptions.ResolveState(parse.GetValue(_state)).ModelSigningPublicKey];
        var pems = new List<string>();
        foreach (var file in files.Where(File.Exists))
        {
            pems.Add(await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false));
        }

        if (signer is not null)
        {
            pems.Add(SigningKeys.ExportPublicKeyPem(signer));
        }

        var trusted = TrustedSigners.FromPem(pems);
        var container = StorageConnections.Container(parse.GetValue(_connection), parse.GetValue(_blobUri), ModelStoreLayout.DefaultContainerName);
        return (new ControlStore(container, trusted), new ModelStore(container, trusted, new ModelStoreOptions(), NullLogger<ModelStore>.Instance));
    }
}
