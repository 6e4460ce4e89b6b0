using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerlessServe.Core.Tests.Identity;
using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;
using Xunit.Abstractions;

namespace ServerlessServe.Integration.Tests.Gateway;

/// <summary>
/// The JWT negative suite through the running gateway, which trusts the stack's local OpenID Connect issuer through its
/// discovery document and key set exactly as it trusts Entra ID: each forged or unacceptable token is refused with the
/// same 401 body as a request without a token, and the model never runs (nothing past authentication is audited, and
/// every request that authenticates is). A key the issuer rotates in is accepted without restarting the gateway.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class CallerTokenTests(StackFixture fixture, ITestOutputHelper output)
{
    private const string Body = """{"inputs":[{"name":"features","shape":[1,4],"datatype":"FP32","data":[0.35,0.4,1,9]}]}""";

    public static TheoryData<string> Forgeries() =>
    [
        "alg none",
        "HS256 signed with the RSA public key",
        "unknown kid",
        "missing kid",
        "jku header",
        "x5u header",
        "embedded jwk",
        "wrong aud",
        "wrong iss",
        "expired beyond skew",
        "nbf in the future",
        "no exp",
        "payload altered after signing",
        "over the token length limit (20 KB)",
    ];

    [StackTheory]
    [InlineData(LocalIssuerKey.Es256)]
    [InlineData(LocalIssuerKey.Rs256)]
    public async Task Infer_TokenFromTheIssuer_ServedAndAudited(string algorithm)
    {
        using var response = await InferAsync(fixture.MintCallerToken("token-" + algorithm, algorithm: algorithm));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        Assert.Single(await fixture.AuditLinesAsync(), line => line.Contains(requestId, StringComparison.Ordinal));
    }

    [StackTheory]
    [MemberData(nameof(Forgeries))]
    public async Task Infer_ForgedOrUnacceptableToken_Uniform401AndTheModelNeverRuns(string forgery)
    {
        using var baseline = await InferAsync(null);
        var uniform = await baseline.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, baseline.StatusCode);

        using var response = await InferAsync(Forge(forgery));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{forgery}: {(int)response.StatusCode} {body}");
        Assert.Equal(uniform, body);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).ToString());
        await AssertNeverRanAsync(response);
    }

    [StackFact]
    public async Task Infer_300KbToken_RefusedBeforeAnythingRuns()
    {
        var before = await fixture.RequestRecordCountAsync();

        using var response = await InferAsync(Forge("300 KB token"));

        // The HTTP server (Kestrel standalone, the Functions host in Azure) refuses request headers over 32 KiB before
        // the app sees them: 431, no body to read. Anything that does reach the gateway is refused as any bad token.
        output.WriteLine($"300 KB token: {(int)response.StatusCode}");
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            await AssertNeverRanAsync(response);
        }
        else
        {
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        }

        Assert.Equal(before, await fixture.RequestRecordCountAsync());
    }

    [StackFact]
    public async Task Infer_KeyRotatedIntoTheKeySet_AcceptedWithoutARestart()
    {
        using var rotated = LocalIssuerKey.Create(LocalIssuerKey.Rs256);
        var token = fixture.Stack.Issuer.Mint(rotated, "rotation", lifetime: TimeSpan.FromMinutes(10));

        // Not yet in the key set: refused (and the refresh that kid asked for finds nothing new).
        using (var before = await InferAsync(token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, before.StatusCode);
            await AssertNeverRanAsync(before);
        }

        fixture.Stack.Issuer.Publish(rotated);

        // The next unknown-kid refresh is allowed once the stack's refresh interval has passed; then the key is known.
        var waited = Stopwatch.StartNew();
        HttpStatusCode status;
        string? requestId;
        do
        {
            await Task.Delay(250);
            using var response = await InferAsync(token);
            status = response.StatusCode;
            requestId = response.Headers.TryGetValues("x-request-id", out var ids) ? ids.Single() : null;
        }
        while (status == HttpStatusCode.Unauthorized && waited.Elapsed < StackFixture.RefreshInterval + TimeSpan.FromSeconds(20));

        output.WriteLine($"rotated key accepted after {waited.Elapsed.TotalSeconds:F1} s");
        Assert.True(status == HttpStatusCode.OK, $"{status}\n{fixture.LogTail()}");
        Assert.Single(await fixture.AuditLinesAsync(), line => line.Contains(requestId!, StringComparison.Ordinal));
    }

    private async Task<HttpResponseMessage> InferAsync(string? token)
    {
        using var client = new HttpClient { BaseAddress = fixture.Stack.GatewayBaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/credit-risk/infer") { Content = StackFixture.Json(Body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.SendAsync(request);
    }

    // A request that passes authentication is always audited before anything is released, so a refused request whose
    // id is absent from the audit trail never got past authentication, let alone to the model.
    private async Task AssertNeverRanAsync(HttpResponseMessage response)
    {
        var requestId = Assert.Single(response.Headers.GetValues("x-request-id"));
        Assert.DoesNotContain(await fixture.AuditLinesAsync(), line => line.Contains(requestId, StringComparison.Ordinal));
    }

    private string Forge(string forgery)
    {
        var issuer = fixture.Stack.Issuer.Issuer;
        var now = DateTimeOffset.UtcNow;
        using var ec = LocalIssuerKey.Load(fixture.State.IssuerKey);
        using var rsa = LocalIssuerKey.Load(fixture.State.IssuerRsaKey);
        using var stranger = LocalIssuerKey.Create(LocalIssuerKey.Es256);
        ForgedToken Claims(string algorithm, string? keyId) => ForgedToken.For(issuer, LocalIssuer.Audience, "mallory", now, TimeSpan.FromMinutes(10)).Key(algorithm, keyId);
        switch (forgery)
        {
            case "alg none":
                return Claims("none", ec.KeyId).Sign(ForgedToken.Unsigned);
            case "HS256 signed with the RSA public key":
                return Claims("HS256", rsa.KeyId).Sign(ForgedToken.Hmac(Encoding.ASCII.GetBytes(rsa.ExportPublicKeyPem())));
            case "unknown kid":
                return Claims("ES256", stranger.KeyId).Sign(stranger.SignData);
            case "missing kid":
                return Claims("ES256", null).Sign(ec.SignData);
            case "jku header":
            case "x5u header":
            {
                // The attacker's own key, and where to fetch it: a validator that followed the header would accept it.
                var token = Claims("ES256", stranger.KeyId);
                token.Header[forgery[..3]] = fixture.Stack.Issuer.Issuer + "/attacker/keys";
                return token.Sign(stranger.SignData);
            }

            case "embedded jwk":
            {
                var token = Claims("ES256", stranger.KeyId);
                using var buffer = new MemoryStream();
                using (var json = new Utf8JsonWriter(buffer))
                {
                    stranger.WritePublicJwk(json);
                }

                token.Header["jwk"] = JsonNode.Parse(buffer.ToArray());
                return token.Sign(stranger.SignData);
            }

            case "wrong aud":
                return ForgedToken.For(issuer, "api://another-app", "mallory", now, TimeSpan.FromMinutes(10)).Key("ES256", ec.KeyId).Sign(ec.SignData);
            case "wrong iss":
                return ForgedToken.For("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0", LocalIssuer.Audience, "mallory", now, TimeSpan.FromMinutes(10))
                    .Key("RS256", rsa.KeyId).Sign(rsa.SignData);
            case "expired beyond skew":
                return ForgedToken.For(issuer, LocalIssuer.Audience, "mallory", now - TimeSpan.FromMinutes(12), TimeSpan.FromMinutes(10)).Key("ES256", ec.KeyId).Sign(ec.SignData);
            case "nbf in the future":
                return ForgedToken.For(issuer, LocalIssuer.Audience, "mallory", now + TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10)).Key("ES256", ec.KeyId).Sign(ec.SignData);
            case "no exp":
            {
                var token = Claims("ES256", ec.KeyId);
                token.Payload.Remove("exp");
                return token.Sign(ec.SignData);
            }

            case "payload altered after signing":
                return ForgedToken.Altered(Claims("RS256", rsa.KeyId).Sign(rsa.SignData), "sub", "integration-tests");
            case "over the token length limit (20 KB)":
            case "300 KB token":
            {
                var token = Claims("ES256", ec.KeyId);
                token.Payload["padding"] = new string('a', forgery.StartsWith("300", StringComparison.Ordinal) ? 300 * 1024 : 20 * 1024);
                return token.Sign(ec.SignData);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(forgery), forgery, null);
        }
    }
}
