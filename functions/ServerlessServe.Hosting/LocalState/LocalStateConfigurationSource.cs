using Microsoft.Extensions.Configuration;

namespace ServerlessServe.Hosting.LocalState;

/// <summary>
/// Development convenience for <c>func start</c> and the standalone host: when <c>ServerlessServe:LocalStateDirectory</c>
/// is set, the key settings of <see cref="LocalStateKeys.Settings"/> are read from that folder's <c>keys/</c>. Added as
/// the lowest-precedence source, so app settings and environment variables still win. Never set in Azure, where keys
/// come from Key Vault; the apps log a warning at start when it is in use (<see cref="LocalStateNotice"/>).
/// </summary>
internal sealed class LocalStateConfigurationSource(string directory) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(directory);

    /// <summary>The folder a setting names: absolute as given, relative from the repository root (or the current folder).</summary>
    public static string Resolve(string configured) =>
        Path.GetFullPath(Path.IsPathRooted(configured)
            ? configured
            : Path.Combine(LocalStateKeys.FindRepositoryRoot(AppContext.BaseDirectory) ?? Environment.CurrentDirectory, configured));

    private sealed class Provider(string directory) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            var keys = LocalStateKeys.KeysDirectory(directory);
            foreach (var (setting, file) in LocalStateKeys.Settings)
                {
                var path = Path.Combine(keys, file);
                if (File.Exists(path))
                {
                    data[setting] = File.ReadAllText(path).Trim();
                }
            }

            Data = data;
        }
    }
}
