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

    public static string RepositoryRoot() =>
        LocalState.FindRepositoryRoot(Environment.CurrentDirectory)
        ?? LocalState.FindRepositoryRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("Run ssctl inside a ServerlessServe clone (no ServerlessServe.sln found above this folder).");

    /// <summary>The local default: Azurite's well-known development storage on its default ports.</summary>
    public static string DefaultConnectionString() =>
        Environment.GetEnvironmentVariable("SERVERLESSSERVE_STORAGE") is { Length: > 0 } configured ? configured : "UseDevelopmentStorage=true";
}
