using Microsoft.Extensions.Configuration;

namespace ServerlessServe.Core.Hosting;

/// <summary>
/// Development convenience for <c>func start</c>: when <c>ServerlessServe:LocalStateDirectory</c> is set, the key
/// settings that are not configured otherwise are read from that folder's <c>keys/</c> (as <c>ssctl keys create</c>
/// writes them). A relative path is taken from the repository root. Never set in Azure, where keys come from Key Vault;
/// the apps log a warning at start when it is in use.
/// </summary>
public static class LocalStateConfiguration
{
    public const string Key = "ServerlessServe:LocalStateDirectory";

    /// <summary>Adds the folder's keys as a lowest-precedence source; returns the folder, or null when not configured.</summary>
    public static string? Apply(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var configured = configuration[Key];
        if (string.IsNullOrWhiteSpace(configured) || configuration is not IConfigurationBuilder builder)
        {
            return null;
        }

        var directory = Path.IsPathRooted(configured)
            ? configured
            : Path.Combine(LocalState.FindRepositoryRoot(AppContext.BaseDirectory) ?? Environment.CurrentDirectory, configured);
        var state = new LocalState(directory);
        var missing = state.Configuration()
            .Where(pair => string.IsNullOrEmpty(configuration[pair.Key]) && string.IsNullOrEmpty(configuration[pair.Key.Replace(":0", string.Empty, StringComparison.Ordinal)]))
            .ToDictionary(pair => pair.Key, pair => (string?)pair.Value, StringComparer.Ordinal);

        // Inserted first so that every other source (app settings, environment) still wins.
        builder.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = missing });
        if (configuration is IConfigurationRoot root)
        {
            root.Reload();
        }

        return state.Directory;
    }
}
