namespace ServerlessServe.Local;

/// <summary>How <see cref="LocalStack"/> runs the platform on loopback (used by <c>ssctl up</c> and the integration tests).</summary>
public sealed class LocalStackOptions
{
    /// <summary>The folder holding <c>ServerlessServe.sln</c>.</summary>
    public required string RepositoryRoot { get; init; }

    /// <summary>Keys, Azurite data and logs.</summary>
    public required LocalState State { get; init; }

    /// <summary>Gateway port. Default 7071 (the Functions host's default); 0 picks a free port.</summary>
    public int GatewayPort { get; init; } = 7071;

    /// <summary>Inference app port. Default 7072; 0 picks a free port.</summary>
    public int InferencePort { get; init; } = 7072;

    /// <summary>Admin app port. Default 7074; 0 picks a free port.</summary>
    public int AdminPort { get; init; } = 7074;

    /// <summary>Start the admin app too. Default true.</summary>
    public bool StartAdmin { get; init; } = true;

    /// <summary>Port of the local token issuer (discovery document and key set). Default 7073; 0 picks a free port.</summary>
    public int IssuerPort { get; init; } = LocalIssuer.DefaultPort;

    /// <summary>Azurite ports. Default 10000-10002 (Azurite's own defaults); 0 picks free ports.</summary>
    public int BlobPort { get; init; } = 10000;

    public int QueuePort { get; init; } = 10001;

    public int TablePort { get; init; } = 10002;

    /// <summary>
    /// Where Azurite keeps its data. Default <see cref="AzuritePersistence.Disk"/> (in the state folder, kept across
    /// restarts); the tests, which never restart it, use <see cref="AzuritePersistence.Memory"/>.
    /// </summary>
    public AzuritePersistence AzuritePersistence { get; init; } = AzuritePersistence.Disk;

    /// <summary>Build configuration of the app binaries. Default Debug.</summary>
    public string BuildConfiguration { get; init; } = "Debug";

    /// <summary>Run <c>dotnet build</c> on both apps before starting them. Default true.</summary>
    public bool BuildApps { get; init; } = true;

    /// <summary>
    /// How long each app may take to answer ready once started before the start is given up. Default 2 minutes: on two
    /// shared cores a Functions host took 30–60 s to start its worker.
    /// </summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Report through the stack's progress, with its last lines, an app that exits once ready without the stack having
    /// stopped it (default false). The tests turn it on: a stack whose app died otherwise shows only as 503s from the
    /// app in front of it. <c>ssctl up</c> leaves it off: when it runs without <see cref="OwnSessions"/>, a Ctrl-C reaches
    /// the apps too, and they end before it stops them.
    /// </summary>
    public bool ReportUnaskedExits { get; init; }

    /// <summary>
    /// Whether each child runs in a session of its own (<see cref="ChildProcess.Start"/>), so a terminal's Ctrl-C
    /// reaches only the stack, which stops the apps and then Azurite. <c>ssctl up</c> in a terminal turns it on; the tests
    /// leave it off, so that whatever ends their process group ends the children too.
    /// </summary>
    public bool OwnSessions { get; init; }

    /// <summary>Which host runs the apps. Default <see cref="AppHost.Standalone"/>.</summary>
    public AppHost Host { get; init; } = AppHost.Standalone;

    /// <summary>
    /// The real Functions host for <see cref="AppHost.Functions"/>; default: found by <see cref="FunctionsHost.Locate"/>.
    /// </summary>
    public FunctionsHost? FunctionsHost { get; init; }

    /// <summary>Extra configuration for the gateway (ASP.NET keys with <c>:</c>).</summary>
    public IDictionary<string, string> GatewaySettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra configuration for the admin app (ASP.NET keys with <c>:</c>).</summary>
    public IDictionary<string, string> AdminSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Extra configuration for the inference app (ASP.NET keys with <c>:</c>).</summary>
    public IDictionary<string, string> InferenceSettings { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
