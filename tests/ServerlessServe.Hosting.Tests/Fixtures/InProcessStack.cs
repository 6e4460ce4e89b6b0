using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Admin;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Artifacts;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Gateway;
using ServerlessServe.Hosting.Http;
using ServerlessServe.Hosting.Standalone;
using ServerlessServe.Inference;
using ServerlessServe.Local;
using ServerlessServe.Local.Samples;
using Xunit.Abstractions;

namespace ServerlessServe.Hosting.Tests.Fixtures;

/// <summary>
/// All three apps in this process (the admin app beside them): the inference app and the gateway built by the same <see cref="StandaloneHost"/> and the
/// same feature lists as in production (<see cref="GatewayApp"/>, <see cref="InferenceApp"/>), each on a test server,
/// the gateway's inference client wired to the inference app's test server. Real Azurite (signed models, audit log),
/// real ONNX Runtime, real tokens and signatures, and the real local OpenID Connect issuer on loopback whose metadata
/// both apps fetch over HTTP and whose managed identity endpoint gives the gateway its tokens for the inference app
/// (Azure.Identity finds it through this process's <c>IDENTITY_ENDPOINT</c> and <c>IDENTITY_HEADER</c>, set while the
/// stack runs); only the sockets between the apps are in-memory.
/// </summary>
public sealed class InProcessStack(IMessageSink diagnostics) : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite = new(diagnostics);
    private readonly Local.LocalState _issuerState = new(Path.Combine(Path.GetTempPath(), "serverlessserve-inproc-" + Guid.NewGuid().ToString("N")[..8]));
    private LocalIssuer? _issuer;
    private readonly ECDsa _auditKey = SigningKeys.CreateP256();
    private readonly ECDsa _witnessKey = SigningKeys.CreateP256();
    private WebApplication? _inference;
    private WebApplication? _gateway;
    private WebApplication? _admin;
    private WebApplication? _socketGateway;
    private WebApplication? _socketInference;
    private readonly SemaphoreSlim _socketStart = new(1, 1);
    private Dictionary<string, string?> _shared = [];
    private readonly string _pseudonymKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Credit-risk published under a policy that watches its callers for extraction (shadow mode).</summary>
    public const string WatchedModel = "credit-risk-watched";

    /// <summary>
    /// The digits sample with its policy and signed profile: the OOD screen and extraction detection enforcing (a block
    /// of an hour), squeezing in shadow mode.
    /// </summary>
    public const string ScreenedModel = "digits-screened";

    /// <summary>The gateway's services (its extraction state store and caller pseudonymizer, for the extraction tests).</summary>
    public IServiceProvider GatewayServices => _gateway!.Services;

    /// <summary>The socket gateway's services (<see cref="SocketGatewayAsync"/> first).</summary>
    public IServiceProvider SocketGatewayServices => _socketGateway!.Services;

    /// <summary>The in-process inference app's services.</summary>
    public IServiceProvider InferenceServices => _inference!.Services;

    /// <summary>Faults a test arms in the gateways' storage client (both the test-server and the socket one).</summary>
    public StorageFaults GatewayStorageFaults { get; } = new();

    /// <summary>The admin app's services.</summary>
    public IServiceProvider AdminServices => _admin!.Services;

    /// <summary>The connection string of this stack's Azurite (blobs and tables).</summary>
    public string StorageConnectionString => _azurite.ConnectionString;

    // What the platform sets for an app with a managed identity, and Azure.Identity reads from the environment.
    private static readonly string[] ManagedIdentityVariables = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"];

    /// <summary>A credit-risk copy whose policy limits each caller to a burst of 3 and 1 request a minute after it.</summary>
    public const string LimitedModel = "credit-risk-limited";

    /// <summary>A credit-risk copy whose policy admits only callers with the role <c>risk-admin</c>.</summary>
    public const string RestrictedModel = "credit-risk-admins";

    /// <summary>The credit-risk sample with a policy requiring signed requests.</summary>
    public const string SignedModel = "credit-risk-signed";

    /// <summary>Every security event the gateway raised (it has the local stack's tripwires, <see cref="LocalCanaries"/>).</summary>
    public RecordingSecurityEvents SecurityEvents { get; } = new();

    /// <summary>Logs of the gateway (every category), for assertions on what is and is not logged.</summary>
    public FakeLogCollector GatewayLogs { get; private set; } = null!;

    /// <summary>The gateway's audit container.</summary>
    public BlobContainerClient Audit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _issuerState.EnsureKeys();
        _issuer = await LocalIssuer.StartAsync(_issuerState, port: 0, CancellationToken.None);
        var identity = _issuer.GatewayIdentitySettings();
        foreach (var variable in ManagedIdentityVariables)
        {
            Environment.SetEnvironmentVariable(variable, identity[variable]);
        }
        await _azurite.InitializeAsync();
        var models = await _azurite.CreateContainerAsync("models");
        Audit = _azurite.GetContainer("audit-" + Guid.NewGuid().ToString("N")[..12]);
        var store = new ModelStore(models, TestPackages.Trusted(), new ModelStoreOptions(), NullLogger<ModelStore>.Instance);
        await store.PublishAsync(TestPackages.CreditRisk("credit-risk", "1"));
        await store.PublishAsync(TestPackages.CustomerNotes("customer-notes", "1"));
        await store.PublishAsync(TestPackages.CreditRisk(WatchedModel, "1", policy: WatchedPolicy()));
        await store.PublishAsync(TestPackages.CreditRisk(RestrictedModel, "1", policy: RestrictedPolicy()));
        await store.PublishAsync(TestPackages.CreditRisk(LimitedModel, "1", policy: LimitedPolicy()));
        await store.PublishAsync(TestPackages.CreditRisk(SignedModel, "1", policy: SignedPolicy()));
        await store.PublishAsync(ModelPackager.Pack(
            ScreenedModel, "1", DigitsSample.BuildModel(), SampleModels.GetPolicy(DigitsSample.Name), TestPackages.Signer, TestPackages.Created, SampleModels.BuildProfile(DigitsSample.Name)));

        var shared = _shared = new Dictionary<string, string?>
        {
            ["ServerlessServe:Storage:ConnectionString"] = _azurite.ConnectionString,
            ["ServerlessServe:Models:Container"] = models.Name,
            ["ServerlessServe:Models:TrustedSignerPems:0"] = SigningKeys.ExportPublicKeyPem(TestPackages.Signer),
            ["ServerlessServe:Models:TrustedSignerPems:1"] = SigningKeys.ExportPublicKeyPem(SecondSigner),
        };

        _inference = StandaloneHost.Build(typeof(InferenceApp).Assembly, [], InferenceApp.Configure, builder =>
        {
            builder.WebHost.UseTestServer();
            builder.Configuration.AddInMemoryCollection(shared);
            builder.Configuration.AddInMemoryCollection(_issuer.InferenceSettings().Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
        }, AppDirectory("ServerlessServe.Inference"));
        await _inference.StartAsync();

        _gateway = StandaloneHost.Build(typeof(GatewayApp).Assembly, [], GatewayApp.Configure, builder =>
        {
            builder.WebHost.UseTestServer();
            ConfigureGateway(builder, identity);
            builder.Services.AddSingleton<ISecurityEvents>(sp =>
            {
                // Every event recorded for the tests and raised for real: contained, audited, counted.
                SecurityEvents.Inner = sp.GetRequiredService<SecurityEventWriter>();
                return SecurityEvents;
            });
        }, AppDirectory("ServerlessServe.Gateway"));
        await _gateway.StartAsync();
        GatewayLogs = _gateway.Services.GetFakeLogCollector();

        // The admin app: the same storage, models, containment table and audit container (its own chain), callers of
        // the same issuer for the admin audience only.
        _admin = StandaloneHost.Build(typeof(AdminApp).Assembly, [], AdminApp.Configure, builder =>
        {
            builder.WebHost.UseTestServer();
            builder.Configuration.AddInMemoryCollection(shared);
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ServerlessServe:Audit:Container"] = Audit.Name,
                ["ServerlessServe:Audit:CheckpointKeyPem"] = SigningKeys.ExportPrivateKeyPem(_auditKey),
                ["ServerlessServe:Audit:Witness:KeyPem"] = SigningKeys.ExportPrivateKeyPem(_witnessKey),
                ["ServerlessServe:Audit:PseudonymKey"] = _pseudonymKey,
                ["ServerlessServe:Audit:CheckpointEvery"] = "1",
            });
            builder.Configuration.AddInMemoryCollection(_issuer.AdminSettings().Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
            builder.Logging.AddFakeLogging();
        }, AppDirectory("ServerlessServe.Admin"));
        await _admin.StartAsync();
        AdminLogs = _admin.Services.GetFakeLogCollector();
    }

    // The gateway's settings and services, for the test-server gateway and the socket one alike.
    private void ConfigureGateway(WebApplicationBuilder builder, IReadOnlyDictionary<string, string> identity)
    {
        builder.Services.AddHttpClient(ServerlessServe.Hosting.DependencyInjection.ServerlessServeServiceCollectionExtensions.BlobHttpClientName)
            .AddHttpMessageHandler(GatewayStorageFaults.Handler);
        builder.Configuration.AddInMemoryCollection(_shared);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessServe:ServiceToken:Resource"] = identity["ServerlessServe:ServiceToken:Resource"],
            ["ServerlessServe:Gateway:InferenceBaseUrl"] = "https://inference.test/api",
            ["ServerlessServe:Audit:Container"] = Audit.Name,
            ["ServerlessServe:Jobs:PurgeSchedule"] = "0 */10 * * * *",
            ["ServerlessServe:Jobs:Backend"] = "InMemory",
            ["ServerlessServe:Audit:CheckpointKeyPem"] = SigningKeys.ExportPrivateKeyPem(_auditKey),
            ["ServerlessServe:Audit:Witness:KeyPem"] = SigningKeys.ExportPrivateKeyPem(_witnessKey),
            ["ServerlessServe:Audit:PseudonymKey"] = _pseudonymKey,
            ["ServerlessServe:Containment:RefreshInterval"] = "00:00:00.250",
        });
        builder.Configuration.AddInMemoryCollection(_issuer!.GatewaySettings().Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
        builder.Configuration.AddInMemoryCollection(LocalCanaries.GatewaySettings.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
        builder.Logging.AddFakeLogging();
        builder.Services.AddHttpClient(InferenceClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => _inference!.GetTestServer().CreateHandler());
    }

    /// <summary>
    /// The edge settings of the apps on real sockets: a body idle for 1 s, slower than 240 bytes a second after a 2 s
    /// grace period, or still arriving 5 s after its first read, is refused (408).
    /// </summary>
    public static IReadOnlyDictionary<string, string?> SocketEdgeSettings { get; } = new Dictionary<string, string?>
    {
        ["ServerlessServe:Edge:BodyReadIdleTimeout"] = "00:00:01",
        ["ServerlessServe:Edge:BodyReadTimeout"] = "00:00:05",
        ["ServerlessServe:Edge:MinRequestBodyDataRateGracePeriod"] = "00:00:02",
        ["ServerlessServe:Edge:RequestHeadersTimeout"] = "00:00:02",
    };

    /// <summary>
    /// A second gateway on real Kestrel on loopback (started on first use, same storage, issuer and inference app as the
    /// test-server one), with <see cref="SocketEdgeSettings"/>: for tests that need raw sockets. Its base address is
    /// <c>http://127.0.0.1:PORT/</c>; its logs are <see cref="SocketGatewayLogs"/>.
    /// </summary>
    public async Task<Uri> SocketGatewayAsync()
    {
        await _socketStart.WaitAsync();
        try
        {
            if (_socketGateway is null)
            {
                var identity = _issuer!.GatewayIdentitySettings();
                var gateway = StandaloneHost.Build(typeof(GatewayApp).Assembly, [], GatewayApp.Configure, builder =>
                {
                    builder.WebHost.UseUrls("http://127.0.0.1:0");
                    ConfigureGateway(builder, identity);
                    builder.Configuration.AddInMemoryCollection(SocketEdgeSettings);
                }, AppDirectory("ServerlessServe.Gateway"));
                await gateway.StartAsync();
                SocketGatewayLogs = gateway.Services.GetFakeLogCollector();
                _socketGateway = gateway;
            }

            return new Uri(_socketGateway.Urls.First() + "/");
        }
        finally
        {
            _socketStart.Release();
        }
    }

    /// <summary>A second inference app on real Kestrel on loopback (started on first use), with <see cref="SocketEdgeSettings"/>.</summary>
    public async Task<Uri> SocketInferenceAsync()
    {
        await _socketStart.WaitAsync();
        try
        {
            if (_socketInference is null)
            {
                var inference = StandaloneHost.Build(typeof(InferenceApp).Assembly, [], InferenceApp.Configure, builder =>
                {
                    builder.WebHost.UseUrls("http://127.0.0.1:0");
                    builder.Configuration.AddInMemoryCollection(_shared);
                    builder.Configuration.AddInMemoryCollection(_issuer!.InferenceSettings().Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
                    builder.Configuration.AddInMemoryCollection(SocketEdgeSettings);
                    builder.Logging.AddFakeLogging();
                }, AppDirectory("ServerlessServe.Inference"));
                await inference.StartAsync();
                SocketInferenceLogs = inference.Services.GetFakeLogCollector();
                _socketInference = inference;
            }

            return new Uri(_socketInference.Urls.First() + "/");
        }
        finally
        {
            _socketStart.Release();
        }
    }

    /// <summary>Logs of the socket gateway (every category), once it has started.</summary>
    public FakeLogCollector SocketGatewayLogs { get; private set; } = null!;

    /// <summary>Logs of the socket inference app (every category), once it has started.</summary>
    public FakeLogCollector SocketInferenceLogs { get; private set; } = null!;

    /// <summary>A second trusted model signer, for tests that revoke a signing key without touching the other models.</summary>
    public static ECDsa SecondSigner { get; } = SigningKeys.CreateP256();

    /// <summary>Logs of the admin app (every category).</summary>
    public FakeLogCollector AdminLogs { get; private set; } = null!;

    /// <summary>The public key that signs audit checkpoints (both apps).</summary>
    public ECDsa AuditKey => _auditKey;

    /// <summary>
    /// A client of the admin app (base address <c>…/api/</c>) with <paramref name="token"/>, by default an admin token
    /// (the admin audience, role Serving.Admin) for <paramref name="subject"/>.
    /// </summary>
    public HttpClient AdminClient(string? token = null, string subject = "admin-tests")
    {
        var client = _admin!.GetTestClient();
        client.BaseAddress = new Uri(client.BaseAddress!, "api/");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token ?? _issuer!.MintAdmin(subject));
        return client;
    }

    /// <summary>A client of the gateway's V2 API (base address <c>…/api/</c>), with a caller token unless told otherwise.</summary>
    public HttpClient Client(string? subject = "edge-tests", params string[] roles)
    {
        var client = _gateway!.GetTestClient();
        client.BaseAddress = new Uri(client.BaseAddress!, "api/");
        if (subject is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CallerToken(subject, roles));
        }

        return client;
    }

    /// <summary>The gateway's pseudonym of <paramref name="subject"/>, as security events and audit records name it.</summary>
    public string Pseudonym(string subject) => _gateway!.Services.GetRequiredService<CallerPseudonymizer>().Pseudonymize(subject);

    /// <summary>The local OpenID Connect issuer the gateway trusts (on loopback, its metadata fetched over HTTP).</summary>
    public LocalIssuer Issuer => _issuer!;

    /// <summary>A caller token from this stack's issuer.</summary>
    public string CallerToken(string subject, params string[] roles) => _issuer!.Mint(subject, roles, TimeSpan.FromMinutes(10));

    /// <summary>Every audit record line committed so far.</summary>
    public async Task<IReadOnlyList<string>> AuditLinesAsync()
    {
        var lines = new List<string>();
        if (!await Audit.ExistsAsync())
        {
            return lines;
        }

        await foreach (var blob in Audit.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "chains/", default))
        {
            var text = (await Audit.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content.ToString();
            lines.AddRange(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        return lines;
    }

    public async Task DisposeAsync()
    {
        if (_socketGateway is not null)
        {
            await _socketGateway.DisposeAsync();
        }

        if (_socketInference is not null)
        {
            await _socketInference.DisposeAsync();
        }

        _socketStart.Dispose();
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }

        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }

        if (_inference is not null)
        {
            await _inference.DisposeAsync();
        }

        foreach (var variable in ManagedIdentityVariables)
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        _auditKey.Dispose();
        _witnessKey.Dispose();
        await _azurite.DisposeAsync();
        if (_issuer is not null)
        {
            await _issuer.DisposeAsync();
        }

        Directory.Delete(_issuerState.Directory, recursive: true);
    }

    // The credit-risk sample's policy with extraction detection in shadow mode on its features and probabilities.
    private static byte[] WatchedPolicy()
    {
        var policy = System.Text.Json.Nodes.JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["defenses"] = System.Text.Json.Nodes.JsonNode.Parse("""{"extraction":{"mode":"shadow","input":"features","output":"probabilities"}}""");
        return System.Text.Encoding.UTF8.GetBytes(policy.ToJsonString());
    }

    private static byte[] LimitedPolicy()
    {
        var policy = JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["limits"] = JsonNode.Parse("""{"requestsPerSecond":0.0166,"burst":3}""");
        return JsonSerializer.SerializeToUtf8Bytes(policy);
    }

    private static byte[] SignedPolicy()
    {
        var policy = JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["signatures"] = JsonNode.Parse("""{"required":true,"maxAge":"PT5M"}""");
        return JsonSerializer.SerializeToUtf8Bytes(policy);
    }

    /// <summary>The credit-risk policy with the role <c>risk-admin</c> required.</summary>
    public static byte[] RestrictedPolicy()
    {
        var policy = JsonNode.Parse(SampleModels.GetPolicy(CreditRiskSample.Name))!.AsObject();
        policy["roles"] = new JsonArray("risk-admin");
        return JsonSerializer.SerializeToUtf8Bytes(policy);
    }

    /// <summary>Each app's functions.metadata and host.json, copied from its build output by the project file.</summary>
    private static string AppDirectory(string app) => Path.Combine(AppContext.BaseDirectory, "apps", app);
}

/// <summary>Tests that share the one <see cref="InProcessStack"/>.</summary>
[CollectionDefinition(Name)]
public sealed class InProcessStackCollection : ICollectionFixture<InProcessStack>
{
    public const string Name = "InProcessStack";
}
