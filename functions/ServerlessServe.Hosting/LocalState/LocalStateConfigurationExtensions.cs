using Microsoft.Extensions.Configuration;

namespace ServerlessServe.Hosting.LocalState;

/// <summary>Adds the local state folder's keys as a configuration source.</summary>
public static class LocalStateConfigurationExtensions
{
    /// <summary>
    /// When <c>ServerlessServe:LocalStateDirectory</c> is set, inserts a <see cref="LocalStateConfigurationSource"/> over
    /// that folder first (lowest precedence) and returns the folder; otherwise changes nothing and returns null.
    /// </summary>
    public static string? AddLocalStateKeys(this IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration[LocalStateKeys.DirectorySetting] is not { Length: > 0 } configured)
        {
            return null;
        }

        var directory = LocalStateConfigurationSource.Resolve(configured);
        if (!configuration.Sources.OfType<LocalStateConfigurationSource>().Any())
        {
            configuration.Sources.Insert(0, new LocalStateConfigurationSource(directory));
        }

        return directory;
    }
}
