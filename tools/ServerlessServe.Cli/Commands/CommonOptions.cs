using System.CommandLine;
using ServerlessServe.Local;

namespace ServerlessServe.Cli.Commands;

/// <summary>Options shared by several commands.</summary>
internal static class CommonOptions
{
    public static Option<DirectoryInfo?> State() => new("--state")
    {
        Description = "Local state folder (keys, Azurite data, logs). Default: .serverlessserve at the repository root, or in the current folder outside a clone.",
    };

    public static Option<string?> ConnectionString() => new("--connection-string")
    {
        Description = "Storage connection string (Azurite locally). Default: $SERVERLESSSERVE_STORAGE, else Azurite on 127.0.0.1:10000.",
    };

    public static Option<Uri?> BlobUri() => new("--blob-uri")
    {
        CustomParser = AbsoluteUri,
        Description = "Blob service endpoint in Azure; signs in with DefaultAzureCredential (no keys).",
    };

    /// <summary>Environment variable with the gateway's V2 base URL, the default of <c>--url</c>.</summary>
    public const string UrlVariable = "SERVERLESSSERVE_URL";

    /// <summary>Environment variable with a caller token, the default of <c>--token</c> (keeps it out of the process list).</summary>
    public const string TokenVariable = "SERVERLESSSERVE_TOKEN";

    /// <summary>The gateway of <c>ssctl up</c>.</summary>
    public static readonly Uri LocalGateway = new("http://127.0.0.1:7071/api/");

    public static Option<Uri> GatewayUrl() => new("--url")
    {
        CustomParser = result => AbsoluteUri(result)!,
        DefaultValueFactory = result => Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } configured
            ? Uri.TryCreate(configured, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                ? uri
                : Invalid(result, $"${UrlVariable} is not an absolute http(s) URL")
            : LocalGateway,
        Description = $"Gateway V2 base URL. Default: ${UrlVariable}, else {LocalGateway} (ssctl up).",
    };

    public static Option<string?> Token() => new("--token")
    {
        Description = $"Caller bearer token. Default: ${TokenVariable}, else, for a gateway on loopback, one minted from the local issuer in --state for '{TokenCommand.DefaultSubject}' (as `ssctl token` does).",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print the gateway's JSON answer on standard output (one line) and nothing else; no progress on standard error.",
    };

    /// <summary>
    /// The caller token: <paramref name="token"/>, else <c>$SERVERLESSSERVE_TOKEN</c>, else for a loopback gateway one
    /// minted from the local issuer (a remote gateway does not trust that issuer, so none is minted for it).
    /// </summary>
    public static string ResolveToken(string? token, Uri gateway, DirectoryInfo? state)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        if (!gateway.IsLoopback && gateway.Scheme != Uri.UriSchemeHttps)
        {
            // The token would cross the network in clear text before any redirect to https could help.
            throw new Jobs.JobInputException($"{gateway.Scheme}:// to a gateway that is not on loopback: use https, a bearer token is never sent in clear text");
        }

        if (!string.IsNullOrWhiteSpace(token))
        {
            return token.Trim();
        }

        if (Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } configured)
        {
            return configured.Trim();
        }

        var local = ResolveState(state);
        if (gateway.IsLoopback && File.Exists(local.IssuerKey))
        {
            return LocalIssuer.Mint(local, TokenCommand.DefaultSubject, [], TimeSpan.FromHours(1));
        }

        throw new Jobs.JobInputException(gateway.IsLoopback
            ? $"no token: pass --token or set ${TokenVariable} (no local issuer key in {local.Directory} to mint one; run `ssctl up` or give --state)"
            : $"no token: pass --token or set ${TokenVariable} (tokens are minted locally only for a gateway on loopback)");
    }

    /// <summary>
    /// Parses an absolute URL option (System.CommandLine has no built-in converter for <see cref="Uri"/>): a value that
    /// is not one is a usage error naming the option, not an exception.
    /// </summary>
    public static Uri? AbsoluteUri(System.CommandLine.Parsing.ArgumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : null;
        if (text is not null && Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        result.AddError("expected an absolute http(s) URL");
        return null;
    }

    private static Uri Invalid(System.CommandLine.Parsing.ArgumentResult result, string error)
    {
        result.AddError(error);
        return LocalGateway;
    }

    public static LocalState ResolveState(DirectoryInfo? state)
    {
        if (state is not null)
        {
            return new LocalState(state.FullName);
        }

        var root = LocalState.FindRepositoryRoot(Environment.CurrentDirectory)
            ?? LocalState.FindRepositoryRoot(AppContext.BaseDirectory)
            ?? Environment.CurrentDirectory;
        return new LocalState(Path.Combine(root, LocalState.DefaultFolderName));
    }

    /// <summary>
    /// The trusted model signers: the <c>--trusted-key</c> files given (one that is not there is an error, never
    /// skipped), else the local model-signing public key in <paramref name="state"/>.
    /// </summary>
    public static async Task<ServerlessServe.Core.Artifacts.TrustedSigners> TrustedSignersAsync(FileInfo[]? given, LocalState state, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var files = given is { Length: > 0 } ? given.Select(f => f.FullName) : [state.ModelSigningPublicKey];
        var pems = new List<string>();
        foreach (var file in files)
        {
            pems.Add(await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false));
        }

        return ServerlessServe.Core.Artifacts.TrustedSigners.FromPem(pems);
    }

    /// <summary>In Azure the local keys mean nothing: <c>--blob-uri</c> needs the deployment's signers, all of them, in <c>--trusted-key</c>.</summary>
    public static void RequireTrustedKeysWithBlobUri(System.CommandLine.Command command, System.CommandLine.Option<Uri?> blobUri, System.CommandLine.Option<FileInfo[]> trustedKey)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(blobUri) is not null && result.GetValue(trustedKey) is not { Length: > 0 })
            {
                result.AddError("--blob-uri needs --trusted-key: every model signer the deployment trusts");
            }
        });
    }

    public static string RepositoryRoot() =>
        LocalState.FindRepositoryRoot(Environment.CurrentDirectory)
        ?? LocalState.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new CliUsageException("run ssctl inside a ServerlessServe clone (no ServerlessServe.sln found above this folder)");

    /// <summary>The local default: Azurite's well-known development storage on its default ports.</summary>
    public static string DefaultConnectionString() =>
        Environment.GetEnvironmentVariable("SERVERLESSSERVE_STORAGE") is { Length: > 0 } configured ? configured : "UseDevelopmentStorage=true";
}
