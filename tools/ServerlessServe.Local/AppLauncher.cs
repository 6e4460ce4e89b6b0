using System.Globalization;
using System.Text.Json;

namespace ServerlessServe.Local;

/// <summary>
/// Starts one Function App as a real process on a loopback port, under either host, with its settings as environment
/// variables (<c>a:b</c> becomes <c>a__b</c>, as app settings reach an app in Azure).
/// </summary>
public static class AppLauncher
{
    /// <summary>The file each app keeps beside its project with the settings <c>func start</c> needs (no secrets).</summary>
    public const string LocalSettingsSample = "local.settings.sample.json";

    // The runtime's switch between server (1) and workstation (0) garbage collection.
    private const string GcServerVariable = "DOTNET_gcServer";

    // The runtime's tiering delay: how long tier-0 JIT activity must pause before methods are counted for tier 1.
    private const string TieringDelayVariable = "DOTNET_TC_CallCountingDelayMs";

    /// <summary>
    /// The host-level settings of an app's <c>local.settings.sample.json</c> (every value not under
    /// <c>ServerlessServe__</c>): what makes the real Functions host behave like the standalone host where
    /// configuration can decide it. The local stack runs the host with exactly these, so the sample is what is tested.
    /// </summary>
    public static IReadOnlyDictionary<string, string> FunctionsHostSettings(string appDirectory)
    {
        for (var directory = new DirectoryInfo(appDirectory); directory is not null; directory = directory.Parent)
        {
            var path = Path.Combine(directory.FullName, LocalSettingsSample);
            if (File.Exists(path))
            {
                using var document = JsonDocument.Parse(File.ReadAllBytes(path));
                return document.RootElement.GetProperty("Values").EnumerateObject()
                    .Where(p => !p.Name.StartsWith("ServerlessServe__", StringComparison.Ordinal))
                    .ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
            }

            if (File.Exists(Path.Combine(directory.FullName, "ServerlessServe.sln")))
            {
                break;
            }
        }

        throw new FileNotFoundException($"No {LocalSettingsSample} beside the app built into {appDirectory}.");
    }

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
        string hostWorkDirectory,
        bool ownSession = false)
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

        // A tiering delay of 1 s instead of the runtime's 100 ms, unless the environment or the app's settings choose:
        // while an app starts it keeps compiling new methods, and with the short delay the runtime also counts calls and
        // recompiles at tier 1 methods that start-up alone ran 30 times. A Functions-host stack (three hosts, three
        // workers, Azurite) took 29-31 CPU-s to start with 1 s against 35-38 with the default (docs/performance.md,
        // "Start-up: the tiering delay"). Once an app serves a steady load it compiles nothing new, and hot methods
        // reach tier 1 a second later than they would have.
        if (Environment.GetEnvironmentVariable(TieringDelayVariable) is null)
        {
            environment.TryAdd(TieringDelayVariable, "1000");
        }

        var url = "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        if (host == AppHost.Standalone)
        {
            return ChildProcess.Start(app, "dotnet", [assembly, "--urls", url], appDirectory, logPath, environment, ownSession);
        }

        if (functionsHost is null)
        {
            throw new InvalidOperationException("The Functions host was asked for but no host folder was given.");
        }

        foreach (var (key, value) in FunctionsHostSettings(appDirectory))
        {
            environment.TryAdd(key, value);
        }

        // The host's own storage is the stack's Azurite; its body limit follows the app's if a test changes that.
        environment["AzureWebJobsStorage"] = hostStorage;

        // Durable's HTTP management APIs build their URLs from it; Azure and `func start` set it, so does the stack.
        environment["WEBSITE_HOSTNAME"] = "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        if (settings.TryGetValue("ServerlessServe:Protocol:MaxBodyBytes", out var maxBody))
        {
            environment["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"] = maxBody;
        }
        // Each app on its own host id (in Azure the site name gives it): apps sharing one id share the host's locks
        // in storage, and a timer trigger (a singleton) would then run in only one of them.
        var hostId = "ss-" + new string(app.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).ToArray()).Replace("serverlessserve", "", StringComparison.Ordinal) + "-" + port.ToString(CultureInfo.InvariantCulture);
        environment["AzureFunctionsWebHost__hostid"] = hostId.Length <= 32 ? hostId : hostId[..32];

        // The Durable extension reads its task hub from host.json; the same setting the standalone host reads overrides it.
        if (settings.TryGetValue("ServerlessServe:Jobs:TaskHub", out var taskHub))
        {
            environment["AzureFunctionsJobHost__extensions__durableTask__hubName"] = taskHub;
        }

        // Workstation garbage collection for the host, unless the environment or the app's settings choose: the host's
        // runtimeconfig asks for server GC (a heap and a GC thread per core, sized for an instance of its own), and on a
        // developer's or CI's two cores, shared with the workers, Azurite and the tests, the same 1,500 requests and 20
        // jobs of 20 items cost the stack 14-24 % less CPU with workstation GC, at 13-27 % more requests per second
        // (docs/performance.md, "The Functions host's collector"). It changes how the host collects garbage, nothing of
        // what it does.
        if (Environment.GetEnvironmentVariable(GcServerVariable) is null)
        {
            environment.TryAdd(GcServerVariable, "0");
        }

        environment["FUNCTIONS_HOST_WORKDIR"] = hostWorkDirectory;
        return ChildProcess.Start(
            app + " (Functions host)",
            "bash",
            [functionsHost.RunScript, appDirectory, port.ToString(CultureInfo.InvariantCulture)],
            appDirectory,
            logPath,
            environment,
            ownSession);
    }
}
