using System.Globalization;

namespace ServerlessServe.Local;

/// <summary>
/// Starts one Function App as a real process on a loopback port, under either host, with its settings as environment
/// variables (<c>a:b</c> becomes <c>a__b</c>, as app settings reach an app in Azure).
/// </summary>
public static class AppLauncher
{
    /// <summary>
    /// Settings the real Functions host needs to behave like the standalone host where configuration can decide it.
    /// The same values are in each app's <c>local.settings.sample.json</c> and the Bicep app settings.
    /// </summary>
    public static IReadOnlyDictionary<string, string> FunctionsHostSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // No landing page at GET /: the apps answer only their API routes.
        ["AzureWebJobsDisableHomepage"] = "true",

        // No `Server: Kestrel` on responses (the standalone host leaves it out too).
        ["Kestrel__AddServerHeader"] = "false",
    };

    /// <summary>The folder of an app's build output (what both hosts load).</summary>
    public static string AppDirectory(string repositoryRoot, string app, string configuration) =>
        Path.Combine(repositoryRoot, "functions", app, "bin", configuration, "net10.0");

    /// <summary>
    /// Starts <paramref name="app"/> from <paramref name="appDirectory"/> on 127.0.0.1:<paramref name="port"/>, output
    /// teed to <paramref name="logPath"/>. Under <see cref="AppHost.Functions"/> the host's own storage is
    /// <paramref name="hostStorage"/> and its private copy lives under <paramref name="hostWorkDirectory"/>.
    /// </summary>
    public static ChildProcess Start(
        AppHost host,
        FunctionsHost? functionsHost,
        string app,
        string appDirectory,
        int port,
        IReadOnlyDictionary<string, string> settings,
        string logPath,
        string hostStorage,
        string hostWorkDirectory)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var assembly = Path.Combine(appDirectory, app + ".dll");
        if (!File.Exists(assembly))
        {
            throw new FileNotFoundException($"{app} is not built; run `dotnet build` first.", assembly);
        }

        var environment = settings.ToDictionary(p => p.Key.Replace(":", "__", StringComparison.Ordinal), p => p.Value, StringComparer.Ordinal);
        environment["DOTNET_ENVIRONMENT"] = "Production";
        environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        environment["Logging__Console__FormatterName"] = "simple";
        var url = "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        if (host == AppHost.Standalone)
        {
            return ChildProcess.Start(app, "dotnet", [assembly, "--urls", url], appDirectory, logPath, environment);
        }

        if (functionsHost is null)
        {
            throw new InvalidOperationException("The Functions host was asked for but no host folder was given.");
        }

        foreach (var (key, value) in FunctionsHostSettings)
        {
            environment.TryAdd(key, value);
        }

        environment["AzureWebJobsStorage"] = hostStorage;
        environment.TryAdd("FUNCTIONS_REQUEST_BODY_SIZE_LIMIT", "16777216");
        environment["FUNCTIONS_HOST_WORKDIR"] = hostWorkDirectory;
        return ChildProcess.Start(
            app + " (Functions host)",
            "bash",
            [functionsHost.RunScript, appDirectory, port.ToString(CultureInfo.InvariantCulture)],
            appDirectory,
            logPath,
            environment);
    }
}
