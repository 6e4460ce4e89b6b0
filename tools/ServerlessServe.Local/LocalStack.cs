namespace ServerlessServe.Local;

/// <summary>
/// The whole platform on loopback: the local OpenID Connect issuer (in this process), Azurite, the inference app, the
/// gateway and the admin app, each app a real process, run by the standalone host or the real Functions host
/// (<see cref="LocalStackOptions.Host"/>). The gateway trusts callers of the local issuer through its discovery
/// document and key set, as it trusts Entra ID in Azure. Disposing stops everything.
/// </summary>
public sealed class LocalStack : IAsyncDisposable
{
    private readonly LocalStackOptions _options;
    private readonly FunctionsHost? _functionsHost;
    private readonly AppPair _apps;
    private ChildProcess? _admin;
    private readonly List<string> _startRetries = [];
    private IProgress<string>? _progress;

    private LocalStack(LocalStackOptions options, FunctionsHost? functionsHost, LocalIssuer issuer, Azurite azurite, int gatewayPort, int inferencePort, int adminPort)
    {
        AdminPort = adminPort;
        AdminLog = Path.Combine(options.State.LogsDirectory, "admin.log");
        _options = options;
        _functionsHost = functionsHost;
        Issuer = issuer;
        Azurite = azurite;
        _apps = new AppPair(
            options.Host,
            gatewayPort,
            inferencePort,
            Path.Combine(options.State.LogsDirectory, "gateway.log"),
            Path.Combine(options.State.LogsDirectory, "inference.log"));
    }

    /// <summary>The local issuer the gateway trusts: it mints caller tokens and can publish a new key.</summary>
    public LocalIssuer Issuer { get; }

    public Azurite Azurite { get; }

    public int GatewayPort => _apps.GatewayPort;

    public int InferencePort => _apps.InferencePort;

    /// <summary>The V2 base URL clients use, e.g. <c>http://127.0.0.1:7071/api</c>.</summary>
    public Uri GatewayBaseUrl => _apps.GatewayBaseUrl;

    public Uri InferenceBaseUrl => _apps.InferenceBaseUrl;

    public string GatewayLog => _apps.GatewayLog;

    /// <summary>The admin app's port (0 when it was not started).</summary>
    public int AdminPort { get; }

    /// <summary>The admin plane's base URL, e.g. <c>http://127.0.0.1:7074/api/</c>; its routes are under <c>manage/</c>.</summary>
    public Uri AdminBaseUrl => new($"http://127.0.0.1:{AdminPort}/api/");

    public string AdminLog { get; }

    public string InferenceLog => _apps.InferenceLog;

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
            progress?.Report("building the apps");
            foreach (var app in options.StartAdmin
                ? new[] { "ServerlessServe.Inference", "ServerlessServe.Gateway", "ServerlessServe.Admin" }
                : ["ServerlessServe.Inference", "ServerlessServe.Gateway"])
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

        progress?.Report("starting the local token issuer");
        var issuer = await LocalIssuer.StartAsync(state, options.IssuerPort, cancellationToken).ConfigureAwait(false);
        Azurite azurite;
        try
        {
            progress?.Report("starting Azurite");
            azurite = await Azurite.StartAsync(options.RepositoryRoot, state.AzuriteDirectory, state.LogsDirectory, options.BlobPort, options.QueuePort, options.TablePort, options.AzuritePersistence, cancellationToken, options.OwnSessions).ConfigureAwait(false);
        }
        catch
        {
            await issuer.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var stack = new LocalStack(
            options,
            functionsHost,
            issuer,
            azurite,
            options.GatewayPort == 0 ? FreePorts.Next() : options.GatewayPort,
            options.InferencePort == 0 ? FreePorts.Next() : options.InferencePort,
            !options.StartAdmin ? 0 : options.AdminPort == 0 ? FreePorts.Next() : options.AdminPort)
        {
            _progress = progress,
        };
        try
        {
            if (beforeApps is not null)
            {
                await beforeApps(azurite.ConnectionString, cancellationToken).ConfigureAwait(false);
            }

            await stack.StartAppsAsync(stack._apps, options.Host, new Dictionary<string, string>(), progress, cancellationToken).ConfigureAwait(false);
            if (options.StartAdmin)
            {
                progress?.Report("starting the admin app" + (options.Host == AppHost.Functions ? " under the Functions host" : ""));
                await stack.StartAdminAsync(cancellationToken).ConfigureAwait(false);
            }

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

    /// <summary>
    /// Why an app under the Functions host was started a second time: the message of each start whose host process
    /// exited before it was ready, with its last lines (<see cref="AppStart"/>). Empty when every start succeeded at once.
    /// </summary>
    public IReadOnlyList<string> StartRetries
    {
        get
        {
            lock (_startRetries)
            {
                return [.. _startRetries];
            }
        }
    }

    /// <summary>The real Functions host's folder when <see cref="Host"/> is <see cref="AppHost.Functions"/>.</summary>
    public FunctionsHost? FunctionsHost => _functionsHost;

    /// <summary>
    /// Starts another gateway beside <paramref name="beside"/>'s, on a free port and under the same host, that calls
    /// <paramref name="beside"/>'s inference app: another instance of the same app, as Azure scales it out (give it
    /// the same <paramref name="gatewaySettings"/> to share its task hub and audit log). Waits until it is live, not
    /// ready: the inference app it calls may be down. Disposing the returned pair stops this gateway only.
    /// </summary>
    public async Task<AppPair> StartAnotherGatewayAsync(AppPair beside, IReadOnlyDictionary<string, string> gatewaySettings, string logPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(beside);
        ArgumentNullException.ThrowIfNull(gatewaySettings);
        var pair = new AppPair(beside.Host, FreePorts.Next(), beside.InferencePort, Path.Combine(_options.State.LogsDirectory, logPrefix + "-gateway.log"), beside.InferenceLog)
        {
            GatewaySettings = gatewaySettings,
        };
        try
        {
            await StartGatewayAsync(pair, beside.Host, gatewaySettings, cancellationToken, "v2/health/live").ConfigureAwait(false);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts a second inference app and gateway on free ports under <paramref name="host"/>, on the same storage, keys
    /// and models (to compare the two hosts side by side). <paramref name="gatewaySettings"/> are added to the
    /// gateway's; give it its own audit container, since one audit chain has one writer. It gets its own task hub.
    /// </summary>
    public async Task<AppPair> StartAnotherPairAsync(AppHost host, IReadOnlyDictionary<string, string> gatewaySettings, string logPrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gatewaySettings);
        var logs = _options.State.LogsDirectory;
        var pair = new AppPair(host, FreePorts.Next(), FreePorts.Next(), Path.Combine(logs, logPrefix + "-gateway.log"), Path.Combine(logs, logPrefix + "-inference.log"));
        try
        {
            // Its own task hub too: gateways on one hub share its work, and this one serves other storage and models.
            var settings = new Dictionary<string, string>(gatewaySettings);
            settings.TryAdd("ServerlessServe:Jobs:TaskHub", "jobs" + new string(logPrefix.Where(char.IsAsciiLetterOrDigit).ToArray()));
            pair.GatewaySettings = settings;
            await StartAppsAsync(pair, host, settings, null, cancellationToken).ConfigureAwait(false);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Stops the stack: the admin app beside the gateway and inference app (each up to its grace, then killed), then
    /// Azurite (the apps flush their audit to it), then the issuer. At most about 53 s in all, within ssctl's wait
    /// after Ctrl-C (<see cref="MaxStopTime"/>); one after another it could take 73 s, past the wait, and leave the
    /// last children running.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var admin = _admin is null ? Task.CompletedTask : _admin.DisposeAsync().AsTask();
        await Task.WhenAll(admin, _apps.DisposeAsync().AsTask()).ConfigureAwait(false);
        await Azurite.DisposeAsync().ConfigureAwait(false);
        await Issuer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>The longest <see cref="DisposeAsync"/> takes: the apps' grace and kill waits, then Azurite's, with room to spare.</summary>
    public static readonly TimeSpan MaxStopTime = TimeSpan.FromSeconds(75);

    /// <summary>Waits until either app exits (for <c>ssctl up</c>, which then stops the rest).</summary>
    public Task WaitForAnyExitAsync(CancellationToken cancellationToken) => _admin is null
        ? _apps.WaitForAnyExitAsync(cancellationToken)
        : Task.WhenAny(_apps.WaitForAnyExitAsync(cancellationToken), _admin.WaitForExitAsync(cancellationToken)).Unwrap();

    /// <summary>Stops the inference app (a fault test: the gateway then finds it unreachable).</summary>
    public async Task StopInferenceAsync()
    {
        if (_apps.Inference is { } inference)
        {
            _apps.Inference = null;
            await inference.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Starts the inference app again on its port, after <see cref="StopInferenceAsync"/>, and waits until it is ready.</summary>
    public Task StartInferenceAsync(CancellationToken cancellationToken) => StartInferenceAsync(_apps, _options.Host, cancellationToken);

    /// <summary>Kills the gateway's process tree outright (a crash test: no draining, no final checkpoint).</summary>
    public async Task CrashGatewayAsync()
    {
        if (_apps.Gateway is { } gateway)
        {
            _apps.Gateway = null;
            await gateway.CrashAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Kills <paramref name="pair"/>'s gateway process tree outright (no draining, no final checkpoint).</summary>
    public async Task CrashGatewayAsync(AppPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        if (pair.Gateway is { } gateway)
        {
            pair.Gateway = null;
            await gateway.CrashAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Starts <paramref name="pair"/>'s gateway again with the settings it was started with, and waits until it is ready.</summary>
    public Task StartGatewayAsync(AppPair pair, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return StartGatewayAsync(pair, pair.Host, pair.GatewaySettings, cancellationToken);
    }

    /// <summary>Kills <paramref name="pair"/>'s inference app process tree outright, mid-request if one is running.</summary>
    public async Task CrashInferenceAsync(AppPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        if (pair.Inference is { } inference)
        {
            pair.Inference = null;
            await inference.CrashAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Kills <paramref name="pair"/>'s inference app process alone, mid-request if one is running, as a crash of it
    /// would. Under the Functions host that process is the host, and the worker it started must then stop by itself
    /// (docs/design.md, "A worker outlives its host"). Returns the ids of the processes the app had started that were
    /// still running 20 s later (they are killed then): none, when the worker follows its host.
    /// </summary>
    public async Task<IReadOnlyList<int>> CrashInferenceAloneAsync(AppPair pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        if (pair.Inference is not { } inference)
        {
            return [];
        }

        pair.Inference = null;
        return await inference.CrashAloneAsync(OrphanGrace).ConfigureAwait(false);
    }

    /// <summary>How long the processes a crashed app had started may take to end by themselves (a worker's orderly stop included).</summary>
    private static readonly TimeSpan OrphanGrace = TimeSpan.FromSeconds(20);

    /// <summary>Starts <paramref name="pair"/>'s inference app again on its port, and waits until it is ready.</summary>
    public Task StartInferenceAsync(AppPair pair, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return StartInferenceAsync(pair, pair.Host, cancellationToken);
    }

    /// <summary>Starts the gateway again on its port, after <see cref="CrashGatewayAsync()"/>, and waits until it is ready.</summary>
    public Task StartGatewayAsync(CancellationToken cancellationToken) =>
        StartGatewayAsync(_apps, _options.Host, new Dictionary<string, string>(), cancellationToken);

    private Task StartGatewayAsync(AppPair pair, AppHost host, IReadOnlyDictionary<string, string> extraGatewaySettings, CancellationToken cancellationToken, string readyPath = "v2/health/ready") =>
        LaunchUntilReadyAsync(
            host,
            () =>
            {
                LaunchGateway(pair, host, extraGatewaySettings);
                return pair.Gateway!;
            },
            pair.GatewayBaseUrl,
            pair.GatewayLog,
            readyPath,
            cancellationToken);

    // Starts the gateway's process without waiting for it.
    private void LaunchGateway(AppPair pair, AppHost host, IReadOnlyDictionary<string, string> extraGatewaySettings)
    {
        var gateway = CommonSettings();
        gateway["ServerlessServe:Gateway:InferenceBaseUrl"] = pair.InferenceBaseUrl.ToString();

        // Callers: the local issuer's discovery document and key set, over plain HTTP on loopback only. Its own identity:
        // the local issuer's managed identity endpoint, whose secret only the gateway is given.
        foreach (var (key, value) in Issuer.GatewaySettings().Concat(Issuer.GatewayIdentitySettings()))
        {
            gateway[key] = value;
        }

        // PRADA's δ as calibrated on the digits sample by `ssctl eval defenses` (docs/defenses.md): 0 false alarms over
        // ten benign replay callers of 2,000 queries, where the detector's generic default of 0.90 gave one.
        gateway["ServerlessServe:Extraction:Delta"] = "0.85";

        // The job purge's timer (an app setting in Azure too): every 10 minutes unless a test wants it sooner.
        gateway["ServerlessServe:Jobs:PurgeSchedule"] = "0 */10 * * * *";

        // The samples' canary record, a honey model and a honey subject (docs/defenses.md, "Canaries").
        foreach (var (key, value) in LocalCanaries.GatewaySettings.Concat(_options.GatewaySettings).Concat(extraGatewaySettings))
        {
            gateway[key] = value;
        }

        pair.Gateway = StartApp(host, "ServerlessServe.Gateway", pair.GatewayPort, gateway, pair.GatewayLog);
    }

    /// <summary>
    /// Starts the admin app on <see cref="AdminPort"/>: the same storage, models and audit container as the gateway, callers
    /// of the local issuer for the admin audience only (<see cref="LocalIssuer.AdminSettings"/>).
    /// </summary>
    private Task StartAdminAsync(CancellationToken cancellationToken)
    {
        var admin = CommonSettings();
        foreach (var (key, value) in Issuer.AdminSettings().Concat(_options.AdminSettings))
        {
            admin[key] = value;
        }

        return LaunchUntilReadyAsync(
            _options.Host,
            () => _admin = StartApp(_options.Host, "ServerlessServe.Admin", AdminPort, admin, AdminLog),
            AdminBaseUrl,
            AdminLog,
            "manage/health",
            cancellationToken);
    }

    private Task StartInferenceAsync(AppPair pair, AppHost host, CancellationToken cancellationToken) =>
        LaunchUntilReadyAsync(
            host,
            () =>
            {
                LaunchInference(pair, host);
                return pair.Inference!;
            },
            pair.InferenceBaseUrl,
            pair.InferenceLog,
            "v2/health/ready",
            cancellationToken);

    // Under the Functions host an app whose host process exits while it starts is started once more (AppStart): that
    // host once aborted so in CI, and it failed a whole test lane. The failure is reported (progress, StartRetries).
    // An app is started only on a port nothing listens on. Else its readiness probe could be answered by whatever
    // listens there (another test process's app once was, after a fault test had stopped this stack's inference app for a
    // while: FreePorts), while the app itself exits, unable to bind.
    private async Task LaunchUntilReadyAsync(AppHost host, Func<ChildProcess> launch, Uri baseUrl, string logPath, string readyPath, CancellationToken cancellationToken)
    {
        await WaitUntilFreeAsync(baseUrl, cancellationToken).ConfigureAwait(false);
        var ready = await AppStart.LaunchUntilReadyAsync(
            launch,
            process => WaitReadyAsync(process, baseUrl, logPath, cancellationToken, readyPath),
            logPath,
            retryOnExit: host == AppHost.Functions,
            exited =>
            {
                lock (_startRetries)
                {
                    _startRetries.Add(exited.Message);
                }

                _progress?.Report("starting it again: " + exited.Message);
            }).ConfigureAwait(false);
        if (_options.ReportUnaskedExits && _progress is { } progress)
        {
            ready.WhenExitsUnasked(process => _ = ReportExitAsync(process, baseUrl, logPath, progress));
        }
    }

    private static async Task ReportExitAsync(ChildProcess process, Uri baseUrl, string logPath, IProgress<string> progress)
    {
        try
        {
            progress.Report(await process.FailureMessageAsync($"{process.Name} at {baseUrl} exited with code {process.ExitCode} while nothing had stopped it", logPath).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            progress.Report($"{process.Name} at {baseUrl} exited while nothing had stopped it; see {logPath}.");
        }
    }

    /// <summary>How long a start waits for its port to be let go of (by an app of this stack that has just stopped).</summary>
    private static readonly TimeSpan PortFreeTimeout = TimeSpan.FromSeconds(10);

    private static async Task WaitUntilFreeAsync(Uri baseUrl, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + PortFreeTimeout;
        while (!FreePorts.IsFree(baseUrl.Port))
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new InvalidOperationException($"Cannot start an app at {baseUrl}: another process listens on port {baseUrl.Port}. Stop it, or choose another port.");
            }

            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    // Starts the inference app's process without waiting for it.
    private void LaunchInference(AppPair pair, AppHost host)
    {
        // Only the gateway's managed identity, for its own audience, from the local issuer.
        var inference = CommonSettings();
        foreach (var (key, value) in Issuer.InferenceSettings().Concat(_options.InferenceSettings))
        {
            inference[key] = value;
        }

        pair.Inference = StartApp(host, "ServerlessServe.Inference", pair.InferencePort, inference, pair.InferenceLog);
    }

    // One app after the other. Starting the three at once was tried: on two shared cores it made every other test project
    // of a CI run slower (docs/design.md, "Starting the stack under load").
    private async Task StartAppsAsync(AppPair pair, AppHost host, IReadOnlyDictionary<string, string> extraGatewaySettings, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var under = host == AppHost.Functions ? " under the Functions host" : "";
        progress?.Report("starting the inference app" + under);
        await StartInferenceAsync(pair, host, cancellationToken).ConfigureAwait(false);

        progress?.Report("starting the gateway" + under);
        await StartGatewayAsync(pair, host, extraGatewaySettings, cancellationToken).ConfigureAwait(false);
    }

    private Dictionary<string, string> CommonSettings()
    {
        var settings = new Dictionary<string, string>(_options.State.Configuration(), StringComparer.Ordinal)
        {
            ["ServerlessServe:Storage:ConnectionString"] = Azurite.ConnectionString,
        };
        return settings;
    }

    private ChildProcess StartApp(AppHost host, string app, int port, Dictionary<string, string> settings, string logPath) =>
        AppLauncher.Start(
            host,
            host == AppHost.Functions
                ? _functionsHost ?? FunctionsHost.Locate(_options.RepositoryRoot, null, out var reason) ?? throw new InvalidOperationException("Cannot run under the Functions host: " + reason)
                : null,
            app,
            AppLauncher.AppDirectory(_options.RepositoryRoot, app, _options.BuildConfiguration),
            port,
            settings,
            logPath,
            Azurite.ConnectionString,
            Path.Combine(_options.State.Directory, "functions-host"),
            _options.OwnSessions);

    private async Task WaitReadyAsync(ChildProcess process, Uri baseUrl, string logPath, CancellationToken cancellationToken, string readyPath = "v2/health/ready")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + _options.ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new AppExitedException(await process.FailureMessageAsync($"{process.Name} exited with code {process.ExitCode}", logPath).ConfigureAwait(false));
            }

            try
            {
                using var response = await http.GetAsync(new Uri(baseUrl, readyPath), cancellationToken).ConfigureAwait(false);
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

        throw new TimeoutException(await process.FailureMessageAsync($"{process.Name} did not become ready in {_options.ReadyTimeout.TotalSeconds:0} s", logPath).ConfigureAwait(false));
    }
}
