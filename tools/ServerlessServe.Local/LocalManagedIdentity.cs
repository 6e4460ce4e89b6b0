using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ServerlessServe.Local;

/// <summary>
/// The gateway's managed identity on the local stack: the local issuer serves the App Service managed identity protocol
/// (<c>GET {IDENTITY_ENDPOINT}?resource=…&amp;api-version=2019-08-01</c> with the secret <c>X-IDENTITY-HEADER</c>,
/// answered with <c>access_token</c>, <c>expires_on</c> in Unix seconds, <c>resource</c> and <c>token_type</c>), so the
/// gateway's unchanged Azure.Identity <c>ManagedIdentityCredential</c> gets its tokens here exactly as it does from
/// the platform in Azure. The tokens are signed by the issuer's ES256 key and name the gateway's local identity as Entra
/// ID names a managed identity: <c>sub</c> and <c>oid</c> its object id, <c>azp</c> and <c>appid</c> its client id,
/// <c>aud</c> the resource asked for. Only a process given the secret (the gateway) can ask.
/// </summary>
public static class LocalManagedIdentity
{
    /// <summary>The endpoint's path on the local issuer (<c>IDENTITY_ENDPOINT</c> is the issuer's URL plus this).</summary>
    public const string Path = "/msi/token";

    /// <summary>The only protocol version served, the one Azure.Identity (MSAL) asks for.</summary>
    public const string ApiVersion = "2019-08-01";

    /// <summary>The header carrying the secret (<c>IDENTITY_HEADER</c>).</summary>
    public const string SecretHeader = "X-IDENTITY-HEADER";

    /// <summary>The gateway's local managed identity: its client (application) id, what <c>azp</c>/<c>appid</c> carry.</summary>
    public const string GatewayClientId = "32a33733-dc73-490e-a481-677cd5a9dc0f";

    /// <summary>The gateway's local managed identity: its object (principal) id, what <c>sub</c>/<c>oid</c> carry.</summary>
    public const string GatewayObjectId = "12680563-2b67-4b63-8c3e-828ca112b72a";

    /// <summary>The inference app's audience on the local stack (the form of an app registration's application id URI).</summary>
    public const string InferenceAudience = "api://serverlessserve-inference";

    /// <summary>How long a token of the endpoint lives. The platform's live about a day; an hour exercises refresh sooner.</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromHours(1);

    /// <summary>The claims of a token of the gateway's local managed identity.</summary>
    public static IReadOnlyDictionary<string, string> GatewayClaims { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["oid"] = GatewayObjectId,
        ["azp"] = GatewayClientId,
        ["appid"] = GatewayClientId,
    };

    /// <summary>Answers one token request of the protocol, for the issuer of <paramref name="issuer"/> and its key.</summary>
    internal static IResult Handle(HttpRequest request, LocalState state, string issuer)
    {
        var expected = File.Exists(state.ManagedIdentitySecret) ? File.ReadAllText(state.ManagedIdentitySecret).Trim() : null;
        var presented = request.Headers[SecretHeader].ToString();
        if (string.IsNullOrEmpty(expected) || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected)))
        {
            return Error(StatusCodes.Status401Unauthorized, "a valid identity header is required");
        }

        if (request.Query["api-version"].ToString() != ApiVersion)
        {
            return Error(StatusCodes.Status400BadRequest, "api-version " + ApiVersion + " is required");
        }

        var resource = request.Query["resource"].ToString();
        if (string.IsNullOrWhiteSpace(resource))
        {
            return Error(StatusCodes.Status400BadRequest, "resource is required");
        }

        // A user-assigned identity asked for by client id must be the gateway's; the other selectors name none here.
        var clientId = request.Query["client_id"].ToString();
        if ((clientId.Length > 0 && !string.Equals(clientId, GatewayClientId, StringComparison.OrdinalIgnoreCase))
            || request.Query.ContainsKey("mi_res_id") || request.Query.ContainsKey("object_id") || request.Query.ContainsKey("principal_id"))
        {
            return Error(StatusCodes.Status400BadRequest, "no such identity");
        }

        var expiresOn = DateTimeOffset.UtcNow + TokenLifetime;
        var token = MintGatewayToken(state, issuer, TokenLifetime, resource);
        return Results.Text(Response(token, expiresOn, resource), "application/json");
    }

    /// <summary>
    /// A token of the gateway's local managed identity for <paramref name="resource"/> (default: the inference app's
    /// audience), as the endpoint hands out: what <c>ssctl bench</c> presents to call the inference app directly.
    /// </summary>
    public static string MintGatewayToken(LocalState state, string issuer, TimeSpan lifetime, string resource = InferenceAudience)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var key = LocalIssuerKey.Load(state.IssuerKey);
        return key.Issuer(issuer, TimeProvider.System).Mint(GatewayObjectId, resource, lifetime, claims: GatewayClaims);
    }

    private static string Response(string token, DateTimeOffset expiresOn, string resource)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("access_token", token);
            json.WriteString("expires_on", expiresOn.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            json.WriteString("resource", resource);
            json.WriteString("token_type", "Bearer");
            json.WriteString("client_id", GatewayClientId);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static IResult Error(int status, string description) =>
        Results.Json(new Dictionary<string, string> { ["error"] = status == 401 ? "unauthorized" : "invalid_request", ["error_description"] = description }, statusCode: status);
}
