namespace ServerlessServe.Local;

/// <summary>
/// A folder holding the real Azure Functions host with its <c>run APP_OUTPUT_DIR PORT</c> script (the host built from its
/// public source; see <c>docs/design.md</c>, "Two hosts"). Found from an explicit path, else
/// <see cref="EnvironmentVariable"/>, else <c>../shared/tools/functions-host</c> beside the repository.
/// </summary>
public sealed class FunctionsHost
{
    /// <summary>The environment variable that names the host folder.</summary>
    public const string EnvironmentVariable = "SERVERLESSSERVE_FUNCTIONS_HOST";

    private FunctionsHost(string directory) => Directory = directory;

    /// <summary>The folder holding <c>run</c>.</summary>
    public string Directory { get; }

    /// <summary>The script that starts one app under the host.</summary>
    public string RunScript => Path.Combine(Directory, "run");

    /// <summary>
    /// The host folder, or null with the reason it was not found (the places looked at), so a caller can say exactly
    /// why the real host cannot run.
    /// </summary>
    public static FunctionsHost? Locate(string repositoryRoot, string? explicitDirectory, out string reason)
    {
        var candidates = new List<(string Path, string Source)>();
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            candidates.Add((explicitDirectory, "the given folder"));
        }
        else
        {
            var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(fromEnvironment))
            {
                candidates.Add((fromEnvironment, "$" + EnvironmentVariable));
            }
            else
            {
                candidates.Add((Path.Combine(repositoryRoot, "..", "shared", "tools", "functions-host"), "the default beside the repository"));
            }
        }

        foreach (var (path, source) in candidates)
        {
            var full = Path.GetFullPath(path);
            if (File.Exists(Path.Combine(full, "run")))
            {
                reason = "";
                return new FunctionsHost(full);
            }

            reason = $"no Functions host at {full} ({source}: no `run` script there). Point --functions-host or ${EnvironmentVariable} at the folder holding the host's `run` script.";
            return null;
        }

        reason = "no Functions host folder given.";
        return null;
    }
}
