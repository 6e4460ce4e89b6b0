using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Local;

/// <summary>
/// The local OpenID Connect issuer of <c>ssctl up</c> and the tests, so the gateway validates local callers exactly as it
/// validates Entra ID callers: on 127.0.0.1 it serves a discovery document and a key set (JWKS) holding the public key of
/// every <c>issuer*.key.pem</c> in the state's keys folder — the ES256 and RS256 keys <see cref="LocalState.EnsureKeys"/>
/// creates, and any key added since (<see cref="Publish"/>). The folder is read on every request, so a new key is
/// published at once and the gateway picks it up without a restart. It mints tokens with those keys, and serves the
/// gateway's managed identity endpoint (<see cref="LocalManagedIdentity"/>), whose tokens the inference app accepts.
/// </summary>
public sealed class LocalIssuer : IAsyncDisposable
{
    /// <summary>The port <c>ssctl up</c> serves the issuer on unless told otherwise.</summary>
    public const int DefaultPort = 7073;

    /// <summary>The audience of local caller tokens (the form of an Entra ID app's application id URI).</summary>
    public const string Audience = "api://serverlessserve";

    /// <summary>The audience of local admin tokens: the admin app's own, which the gateway does not accept.</summary>
    public const string AdminAudience = "api://serverlessserve-admin";

    /// <summary>The admin plane's role (<c>Serving.Admin</c>), which admin tokens carry.</summary>
    public const string AdminRole = Core.Identity.AdminRoles.Admin;

    public const string DiscoveryPath = "/.well-known/openid-configuration";

    public const string KeySetPath = "/discovery/keys";

    private readonly WebApplication _app;
    private readonly LocalState _state;

    private LocalIssuer(WebApplication app, LocalState state, string issuer)
    {
        _app = app;
        _state = state;
        Issuer = issuer;
    }

    /// <summary>The issuer identifier, <c>http://127.0.0.1:{port}</c>: the <c>iss</c> of its tokens and the gateway's authority.</summary>
    public string Issuer { get; }

    /// <summary>The discovery document's URL.</summary>
    public Uri MetadataAddress => new(Issuer + DiscoveryPath);

    /// <summary>The issuer identifier of <paramref name="port"/>.</summary>
    public static string IssuerFor(int port) => "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The gateway settings that make it trust this issuer (and nothing else): its audience, and the admin audience as a
    /// sibling (admin tokens are known, audited and refused 403).
    /// </summary>
    public IReadOnlyDictionary<string, string> GatewaySettings() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ServerlessServe:Identity:Authority"] = Issuer,
        ["ServerlessServe:Identity:Audiences:0"] = Audience,
        ["ServerlessServe:Identity:SiblingAudiences:0"] = AdminAudience,
        ["ServerlessServe:Identity:RequireHttpsMetadata"] = "false",
    };

    /// <summary>
    /// The gateway's managed identity on this stack, as environment variables and settings: Azure.Identity finds the
    /// endpoint through <c>IDENTITY_ENDPOINT</c> and <c>IDENTITY_HEADER</c> (the secret, given to the gateway only), and
    /// the gateway asks for the inference app's audience.
    /// </summary>
    public IReadOnlyDictionary<string, string> GatewayIdentitySettings() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["IDENTITY_ENDPOINT"] = ManagedIdentityEndpoint.AbsoluteUri,
        ["IDENTITY_HEADER"] = File.ReadAllText(_state.ManagedIdentitySecret).Trim(),
        ["ServerlessServe:ServiceToken:Resource"] = LocalManagedIdentity.InferenceAudience,
    };

    /// <summary>The inference app settings that make it accept this issuer's tokens of the gateway's identity, and nothing else.</summary>
    public IReadOnlyDictionary<string, string> InferenceSettings() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ServerlessServe:ServiceAuth:Authority"] = Issuer,
        ["ServerlessServe:ServiceAuth:Audiences:0"] = LocalManagedIdentity.InferenceAudience,
        ["ServerlessServe:ServiceAuth:RequireHttpsMetadata"] = "false",
        ["ServerlessServe:ServiceAuth:AllowedIdentities:0"] = LocalManagedIdentity.GatewayClientId,
    };

    /// <summary>The managed identity endpoint (<c>IDENTITY_ENDPOINT</c>).</summary>
    public Uri ManagedIdentityEndpoint => new(Issuer + LocalManagedIdentity.Path);

    /// <summary>
    /// The admin app settings that make it trust this issuer for its own audience, and the gateway's as a sibling
    /// (data-plane tokens are known, audited and refused 403).
    /// </summary>
    public IReadOnlyDictionary<string, string> AdminSettings() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ServerlessServe:Identity:Authority"] = Issuer,
        ["ServerlessServe:Identity:Audiences:0"] = AdminAudience,
        ["ServerlessServe:Identity:SiblingAudiences:0"] = Audience,
        ["ServerlessServe:Identity:RequireHttpsMetadata"] = "false",
    };

    /// <summary>An admin token from this issuer: the admin audience and the role <see cref="AdminRole"/> (unless <paramref name="roles"/> says otherwise).</summary>
    public string MintAdmin(string subject, IEnumerable<string>? roles = null, TimeSpan? lifetime = null)
    {
        using var key = LocalIssuerKey.Load(KeyFile(_state, LocalIssuerKey.Es256));
        return key.Issuer(Issuer, TimeProvider.System).Mint(subject, AdminAudience, lifetime ?? TimeSpan.FromMinutes(30), roles ?? [AdminRole]);
    }

    /// <summary>A token from this issuer for <paramref name="audience"/> (tests of audience separation).</summary>
    public string MintFor(string audience, string subject, IEnumerable<string>? roles = null, TimeSpan? lifetime = null)
    {
        using var key = LocalIssuerKey.Load(KeyFile(_state, LocalIssuerKey.Es256));
        return key.Issuer(Issuer, TimeProvider.System).Mint(subject, audience, lifetime ?? TimeSpan.FromMinutes(30), roles);
    }

    /// <summary>Starts the issuer on 127.0.0.1:<paramref name="port"/> (0: a free port) and records its URL in the state folder.</summary>
    public static async Task<LocalIssuer> StartAsync(LocalState state, int port, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = state.Directory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        string? issuer = null;
        app.MapGet(DiscoveryPath, () => Results.Text(DiscoveryDocument(issuer!), "application/json"));
        app.MapGet(KeySetPath, () => Results.Text(KeySet(state), "application/json"));
        app.MapGet(LocalManagedIdentity.Path, (HttpRequest request) => LocalManagedIdentity.Handle(request, state, issuer!));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            issuer = IssuerFor(new Uri(address).Port);
            // Inside the try: a write that fails (cancelled, the path a folder) stops the listener too, rather than leave
            // it holding the port with nothing to dispose it (found in review 2026-12-07).
            await File.WriteAllTextAsync(state.IssuerUrlFile, issuer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new LocalIssuer(app, state, issuer);
    }

    /// <summary>A caller token from this issuer, signed with its ES256 or RS256 key.</summary>
    public string Mint(string subject, IEnumerable<string>? roles = null, TimeSpan? lifetime = null, string algorithm = LocalIssuerKey.Es256)
    {
        using var key = LocalIssuerKey.Load(KeyFile(_state, algorithm));
        return Mint(key, subject, roles, lifetime);
    }

    /// <summary>A caller token signed with <paramref name="key"/>, published or not.</summary>
    public string Mint(LocalIssuerKey key, string subject, IEnumerable<string>? roles = null, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Issuer(Issuer, TimeProvider.System).Mint(subject, Audience, lifetime ?? TimeSpan.FromMinutes(30), roles);
    }

    /// <summary>
    /// A token from this issuer's ES256 key for any <paramref name="audience"/> with any <paramref name="claims"/>: the
    /// gateway's managed identity token (<see cref="LocalManagedIdentity.GatewayClaims"/>), or one a test makes up.
    /// </summary>
    public string MintFor(string audience, string subject, IReadOnlyDictionary<string, string>? claims = null, TimeSpan? lifetime = null)
    {
        using var key = LocalIssuerKey.Load(_state.IssuerKey);
        return key.Issuer(Issuer, TimeProvider.System).Mint(subject, audience, lifetime ?? TimeSpan.FromMinutes(30), claims: claims);
    }

    /// <summary>
    /// A token this issuer's ES256 key signs over <paramref name="payload"/> exactly as given: claims no minting API
    /// writes (odd types, ill-formed UTF-8), for tests of what a trusted issuer could still send.
    /// </summary>
    public string SignPayload(ReadOnlySpan<byte> payload)
    {
        using var key = LocalIssuerKey.Load(KeyFile(_state, LocalIssuerKey.Es256));
        var header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = LocalIssuerKey.Es256, ["kid"] = key.KeyId, ["typ"] = "JWT" });
        var signingInput = Base64Url.EncodeToString(header) + "." + Base64Url.EncodeToString(payload);
        return signingInput + "." + Base64Url.EncodeToString(key.SignData(System.Text.Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>A token of the gateway's managed identity for the inference app, as the endpoint hands it to the gateway.</summary>
    public string MintGatewayToken() =>
        MintFor(LocalManagedIdentity.InferenceAudience, LocalManagedIdentity.GatewayObjectId, LocalManagedIdentity.GatewayClaims, LocalManagedIdentity.TokenLifetime);

    /// <summary>Adds <paramref name="key"/> to the key set (a key rotation): it is served from the next key-set request on.</summary>
    public void Publish(LocalIssuerKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        LocalState.WriteSecret(Path.Combine(_state.KeysDirectory, "issuer-" + key.KeyId + ".key.pem"), key.ExportPrivateKeyPem());
    }

    /// <summary>
    /// A caller token from the local issuer of <paramref name="state"/> without a running issuer (for <c>ssctl token</c>):
    /// its <c>iss</c> is the URL the issuer last recorded there, else that of <see cref="DefaultPort"/>.
    /// </summary>
    public static string Mint(LocalState state, string subject, IEnumerable<string> roles, TimeSpan lifetime, string algorithm = LocalIssuerKey.Es256, string audience = Audience)
    {
        ArgumentNullException.ThrowIfNull(state);
        var issuer = File.Exists(state.IssuerUrlFile) ? File.ReadAllText(state.IssuerUrlFile).Trim() : IssuerFor(DefaultPort);
        using var key = LocalIssuerKey.Load(KeyFile(state, algorithm));
        return key.Issuer(issuer, TimeProvider.System).Mint(subject, audience, lifetime, roles);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static string KeyFile(LocalState state, string algorithm) => algorithm switch
    {
        LocalIssuerKey.Es256 => state.IssuerKey,
        LocalIssuerKey.Rs256 => state.IssuerRsaKey,
        _ => throw new ArgumentException($"The local issuer signs with {LocalIssuerKey.Es256} or {LocalIssuerKey.Rs256}, not {algorithm}.", nameof(algorithm)),
    };

    private static string DiscoveryDocument(string issuer)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("issuer", issuer);
            json.WriteString("jwks_uri", issuer + KeySetPath);
            json.WriteStartArray("response_types_supported");
            json.WriteStringValue("token");
            json.WriteEndArray();
            json.WriteStartArray("subject_types_supported");
            json.WriteStringValue("public");
            json.WriteEndArray();
            json.WriteStartArray("id_token_signing_alg_values_supported");
            json.WriteStringValue(LocalIssuerKey.Rs256);
            json.WriteStringValue(LocalIssuerKey.Es256);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string KeySet(LocalState state)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var file in Directory.EnumerateFiles(state.KeysDirectory, "issuer*.key.pem").Order(StringComparer.Ordinal))
            {
                using var key = LocalIssuerKey.Load(file);
                key.WritePublicJwk(json);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
