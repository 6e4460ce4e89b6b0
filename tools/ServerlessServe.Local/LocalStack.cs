namespace ServerlessServe.Local;

/// <summary>
/// The whole platform on loopback: Azurite, the inference app and the gateway, each a real process, run by the
/// standalone host or the real Functions host (<see cref="LocalStackOptions.Host"/>). Disposing stops every process.
/// </summary>
public sealed class LocalStack : IAsyncDisposable
{
    private readonly LocalStackOptions _options;
    private ChildProcess? _inference;
    private readonly FunctionsHost? _functionsHost;
    private ChildProcess? _gateway;

    private LocalStack(LocalStackOptions options, FunctionsHost? functionsHost, Azurite azurite, int gatewayPort, int inferencePort)
    {
        _options = options;
        _functionsHost = functionsHost;
        Azurite = azurite;
        GatewayPort = gatewayPort;
        InferencePort = inferencePort;
    }

    public Azurite Azurite { get; }

    public int GatewayPort { get; }

    public int InferencePort { get; }

    /// <summary>The V2 base URL clients use, e.g. <c>http://127.0.0.1:7071/api</c>.</summary>
    public Uri GatewayBaseUrl => new($"http://127.0.0.1:{GatewayPort}/api/");

    public Uri InferenceBaseUrl => new($"http://127.0.0.1:{InferencePort}/api/");

    public string GatewayLog => Path.Combine(_options.State.LogsDirectory, "gateway.log");

    public string InferenceLog => Path.Combine(_options.State.LogsDirectory, "inference.log");

    /// <summary>
    /// Starts Azurite, runs <paramref name="beforeApps"/> (e.g. publishing models) with its connection string, then
    /// starts the inference app and the gateway and waits until both are ready.
    /// </summary>
    public static async Task<LocalStack> StartAsync(LocalStackOptions options, Func<string, CancellationToken, Task>? beforeApps, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var state = options.State;
        var functionsHost = options.FunctionsHost;
        if (options.Host == AppHost.Functions && functionsHost is null)
        {
            functionsHost = FunctionsHost.Locate(options.RepositoryRoot, null, out var reason)
                ?? throw new InvalidOperationException("Cannot run the apps under the Functions host: " + reason);
        }

        state.EnsureKeys();
        Directory.CreateDirectory(state.LogsDirectory);
        if (options.BuildApps)
        {
            progress?.Report("building the gateway and inference apps");
            foreach (var app in new[] { "ServerlessServe.Inference", "ServerlessServe.Gateway" })
            {
                await ChildProcess.RunToCompletionAsync(
                    "dotnet build " + app,
                    "dotnet",
                    ["build", Path.Combine(options.RepositoryRoot, "functions", app), "-c", options.BuildConfiguration, "--nologo", "-v", "q"],
                    options.RepositoryRoot,
                    Path.Combine(state.LogsDirectory, $"build-{app}.log"),
                    TimeSpan.FromMinutes(10),
                    cancellationToken).ConfigureAwait(false);
            }
        }

        progress?.Report("starting Azurite");
        var azurite = await Azurite.StartAsync(options.RepositoryRoot, state.AzuriteDirectory, state.LogsDirectory, options.BlobPort, options.QueuePort, options.TablePort, cancellationToken).ConfigureAwait(false);
        var stack = new LocalStack(
            options,
            functionsHost,
            azurite,
            options.GatewayPort == 0 ? FreePorts.Next() : options.GatewayPort,
            options.InferencePort == 0 ? FreePorts.Next() : options.InferencePort);
        try
        {
            if (beforeApps is not null)
            {
                await beforeApps(azurite.ConnectionString, cancellationToken).ConfigureAwait(false);
            }

            progress?.Report(options.Host == AppHost.Functions ? "starting the inference app under the Functions host" : "starting the inference app");
            await stack.StartInferenceAsync(cancellationToken).ConfigureAwait(false);
            progress?.Report(options.Host == AppHost.Functions ? "starting the gateway under the Functions host" : "starting the gateway");
            await stack.StartGatewayAsync(cancellationToken).ConfigureAwait(false);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The path of an app's built assembly.</summary>
    public static string AppAssembly(string repositoryRoot, string app, string configuration) =>
        Path.Combine(AppLauncher.AppDirectory(repositoryRoot, app, configuration), app + ".dll");

    /// <summary>Which host runs the apps.</summary>
    public AppHost Host => _options.Host;

    /// <summary>The real Functions host's folder when <see cref="Host"/> is <see cref="AppHost.Functions"/>.</summary>
    public FunctionsHost? FunctionsHost => _functionsHost;

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync().ConfigureAwait(false);
        }

        if (_inference is not null)
        {
            await _inference.DisposeAsync().ConfigureAwait(false);
        }

        await Azurite.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until either app exits (for <c>ssctl up</c>, which then stops the rest).</summary>
    public async Task WaitForAnyExitAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAny(_gateway!.WaitForExitAsync(cancellationToken), _inference!.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task StartInferenceAsync(CancellationToken cancellationToken)
    {
        var settings = CommonSettings();
        foreach (var (key, value) in _options.InferenceSettings)
        {
            settings[key] = value;
        }

        _inference = StartApp("ServerlessServe.Inference", InferencePort, settings, InferenceLog);
        await WaitReadyAsync(_inference, InferenceBaseUrl, InferenceLog, cancellationToken).ConfigureAwait(false);
    }

    private async Task StartGatewayAsync(CancellationToken cancellationToken)
    {
        var settings = CommonSettings();
        settings["ServerlessServe:Gateway:InferenceBaseUrl"] = InferenceBaseUrl.ToString();
        foreach (var (key, value) in _options.GatewaySettings)
        {
            settings[key] = value;
        }

        _gateway = StartApp("ServerlessServe.Gateway", GatewayPort, settings, GatewayLog);
        await WaitReadyAsync(_gateway, GatewayBaseUrl, GatewayLog, cancellationToken).ConfigureAwait(false);
    }

    private Dictionary<string, string> CommonSettings()
    {
        var settings = new Dictionary<string, string>(_options.State.Configuration(), StringComparer.Ordinal)
        {
            ["ServerlessServe:Storage:ConnectionString"] = Azurite.ConnectionString,
        };
        return settings;
    }

    private ChildProcess StartApp(string app, int port, Dictionary<string, string> settings, string logPath) =>
        AppLauncher.Start(
            _options.Host,
            _functionsHost,
            app,
            AppLauncher.AppDirectory(_options.RepositoryRoot, app, _options.BuildConfiguration),
            port,
            settings,
            logPath,
            Azurite.ConnectionString,
            Path.Combine(_options.State.Directory, "functions-host"));

    private static async Task WaitReadyAsync(ChildProcess process, Uri baseUrl, string logPath, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{process.Name} exited with code {process.ExitCode}; see {logPath}.");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(baseUrl, "v2/health/ready"), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Slow start.
            }

            await Task.Delay(150, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"{process.Name} did not become ready; see {logPath}.");
    }
}
