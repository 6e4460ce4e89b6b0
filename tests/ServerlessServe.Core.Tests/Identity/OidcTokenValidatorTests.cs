using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using ServerlessServe.Core.Identity;
using ServerlessServe.Local;

namespace ServerlessServe.Core.Tests.Identity;

/// <summary>
/// Caller tokens against an issuer's metadata and key set, read by the library's configuration manager from files
/// (its file retriever; the HTTP path is the integration tests'), with a counter of every document fetched.
/// </summary>
public sealed class OidcTokenValidatorTests : IDisposable
{
    private const string Issuer = "https://login.example.test/tenant-1/v2.0";
    private const string Audience = "api://serverlessserve";
    private const string ServiceAudience = "api://serverlessserve-inference";
    private const string GatewayClientId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    private const string GatewayObjectId = "0f8fad5b-d9cb-469f-a165-70867728950e";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("oidc-tests-");
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly LocalIssuerKey _ec = LocalIssuerKey.Create(LocalIssuerKey.Es256);
    private readonly LocalIssuerKey _rsa = LocalIssuerKey.Create(LocalIssuerKey.Rs256);
    private readonly CountingRetriever _documents = new(new FileDocumentRetriever());

    public OidcTokenValidatorTests() => Publish(_ec, _rsa);

    private string MetadataPath => Path.Combine(_folder.FullName, "openid-configuration.json");

    public void Dispose()
    {
        _ec.Dispose();
        _rsa.Dispose();
        _folder.Delete(recursive: true);
    }

    [Theory]
    [InlineData(LocalIssuerKey.Es256)]
    [InlineData(LocalIssuerKey.Rs256)]
    public async Task ValidateAsync_TokenSignedByAKeyOfTheKeySet_ReturnsSubjectRolesIdAndIssueTime(string algorithm)
    {
        var key = algorithm == LocalIssuerKey.Es256 ? _ec : _rsa;
        var verdict = await Validator().ValidateAsync(key.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(10), ["scorer", "auditor"]));

        Assert.True(verdict.IsAccepted, verdict.Failure.ToString());
        Assert.Equal("alice", verdict.Caller!.Subject);
        Assert.Equal(["scorer", "auditor"], verdict.Caller.Roles);
        Assert.Equal(32, verdict.Caller.TokenId?.Length);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeSeconds(), verdict.Caller.IssuedAt?.ToUnixTimeSeconds());
    }

    public static TheoryData<string, TokenFailure> Refusals() => new()
    {
        { "alg none", TokenFailure.Algorithm },
        { "HS256 keyed with the RSA public key", TokenFailure.Algorithm },
        { "unknown kid", TokenFailure.UnknownKey },
        { "missing kid", TokenFailure.MissingKeyId },
        { "jku header", TokenFailure.KeyLocationHeader },
        { "x5u header", TokenFailure.KeyLocationHeader },
        { "embedded jwk", TokenFailure.KeyLocationHeader },
        { "x5c header", TokenFailure.KeyLocationHeader },
        { "crit header", TokenFailure.Malformed },
        { "wrong aud", TokenFailure.Audience },
        { "wrong iss", TokenFailure.Issuer },
        { "expired beyond skew", TokenFailure.Expired },
        { "nbf in the future", TokenFailure.NotYetValid },
        { "iat a year ahead and no nbf, so exp - iat is short", TokenFailure.NotYetValid },
        { "no exp", TokenFailure.NoExpiry },
        { "lifetime over the maximum", TokenFailure.LifetimeTooLong },
        { "neither nbf nor iat, in the last hour of a year's lifetime", TokenFailure.LifetimeTooLong },
        { "no sub", TokenFailure.NoSubject },
        { "payload altered after signing", TokenFailure.Signature },
        { "RS256 header over an EC key", TokenFailure.Signature },
        { "oversized", TokenFailure.TooLarge },
        { "not a JWT", TokenFailure.Malformed },
        { "encrypted (five parts)", TokenFailure.Malformed },
        { "header not JSON", TokenFailure.Malformed },
        { "header a JSON array", TokenFailure.Malformed },
        { "payload not JSON", TokenFailure.Malformed },
        { "a role not UTF-8, signed by the issuer", TokenFailure.Malformed },
        { "iat past the year 9999, signed by the issuer", TokenFailure.NotYetValid },
        { "iat not a number, signed by the issuer", TokenFailure.Malformed },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task ValidateAsync_Forged_RefusedWithItsReason(string forgery, TokenFailure expected)
    {
        var verdict = await Validator().ValidateAsync(Forge(forgery));

        Assert.False(verdict.IsAccepted);
        Assert.Equal(expected, verdict.Failure);
    }

    /// <summary>
    /// A token shaped as Entra ID issues to a managed identity: valid for 24 hours, with <c>nbf</c> and <c>iat</c>
    /// backdated 5 minutes, so it spans 24 h 5 min. Accepted by default; the 24-hour default refused every one, so a
    /// deployed gateway could not call its inference app (found in review 2026-12-07).
    /// </summary>
    [Fact]
    public async Task ValidateAsync_ManagedIdentityTokenSpanning24Hours5Minutes_AcceptedByDefault()
    {
        var now = _time.GetUtcNow();
        var token = ForgedToken.For(Issuer, Audience, "gateway-identity", now - TimeSpan.FromMinutes(5), TimeSpan.FromHours(24) + TimeSpan.FromMinutes(5)).Key("ES256", _ec.KeyId);

        var verdict = await Validator().ValidateAsync(token.Sign(_ec.SignData));

        Assert.True(verdict.IsAccepted, verdict.Failure.ToString());
    }

    [Fact]
    public async Task ValidateAsync_ExpiredWithinSkew_Accepted()
    {
        var token = _ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(10));
        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(20));

        Assert.True((await Validator().ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_RememberedTokenPastExpiry_Expired()
    {
        var validator = Validator();
        var token = _ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(10));
        Assert.True((await validator.ValidateAsync(token)).IsAccepted);
        Assert.True((await validator.ValidateAsync(token)).IsAccepted);

        _time.Advance(TimeSpan.FromMinutes(11));

        Assert.Equal(TokenFailure.Expired, (await validator.ValidateAsync(token)).Failure);
    }

    [Fact]
    public async Task ValidateAsync_SiblingAudience_AcceptedButMarked_OthersRefused()
    {
        var validator = Validator(new OidcValidationPolicy { Audiences = [Audience], SiblingAudiences = ["api://admin"] });
        var issuer = _ec.Issuer(Issuer, _time);

        var own = await validator.ValidateAsync(issuer.Mint("alice", Audience, TimeSpan.FromMinutes(5)));
        var sibling = await validator.ValidateAsync(issuer.Mint("ops", "api://admin", TimeSpan.FromMinutes(5), ["Serving.Admin"]));
        var stranger = await validator.ValidateAsync(issuer.Mint("eve", "api://elsewhere", TimeSpan.FromMinutes(5)));

        Assert.False(own.Caller!.SiblingAudience);
        Assert.True(sibling.Caller!.SiblingAudience);
        Assert.Equal("ops", sibling.Caller.Subject);
        Assert.Equal(TokenFailure.Audience, stranger.Failure);
        Assert.Throws<ArgumentException>(() => Validator(new OidcValidationPolicy { Audiences = [Audience], SiblingAudiences = [Audience] }));
    }

    /// <summary>
    /// A user's ID token for the app (same issuer, keys and aud as its access tokens, and the same roles) is not a
    /// bearer credential: it names no azp or appid, and may carry a nonce or at_hash. Found in review 2026-12-07: any
    /// token with the right audience was accepted.
    /// </summary>
    [Theory]
    [InlineData("no-client")]
    [InlineData("nonce")]
    [InlineData("at_hash")]
    [InlineData("c_hash")]
    public async Task ValidateAsync_IdToken_RefusedAsNotAnAccessToken(string shape)
    {
        var claims = shape == "no-client"
            ? new Dictionary<string, string> { ["azp"] = "" }
            : new Dictionary<string, string> { [shape] = "n-0S6_WzA2Mj" };
        var token = _ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(10), ["scorer"], claims);

        Assert.Equal(TokenFailure.NotAccessToken, (await Validator().ValidateAsync(token)).Failure);
        // An issuer whose access tokens name no client: accepted only when the policy says so.
        Assert.True((await Validator(new OidcValidationPolicy { Audiences = [Audience], RequireAccessToken = false }).ValidateAsync(token)).IsAccepted);
    }

    [Theory]
    [InlineData("azp")]
    [InlineData("appid")]
    public async Task ValidateAsync_AccessTokenNamingItsClient_Accepted(string claim)
    {
        var token = _rsa.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(10), ["scorer"], new Dictionary<string, string> { [claim] = "c0ffee00-0000-4000-8000-000000000001" });

        Assert.True((await Validator().ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_AudienceWithATrailingSlash_Refused()
    {
        // The token library matches "api://x/" for "api://x" by default; an audience is an exact string here.
        var issuer = _ec.Issuer(Issuer, _time);

        Assert.Equal(TokenFailure.Audience, (await Validator().ValidateAsync(issuer.Mint("alice", Audience + "/", TimeSpan.FromMinutes(5)))).Failure);
        Assert.Equal(TokenFailure.Audience, (await Validator(new OidcValidationPolicy { Audiences = [Audience + "/"] }).ValidateAsync(issuer.Mint("alice", Audience, TimeSpan.FromMinutes(5)))).Failure);
    }

    [Fact]
    public async Task ValidateAsync_ConfiguredIssuers_ReplaceTheMetadataIssuer()
    {
        var validator = Validator(new OidcValidationPolicy { Audiences = [Audience], Issuers = ["https://other.example.test/"] });

        Assert.Equal(TokenFailure.Issuer, (await validator.ValidateAsync(_ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(5)))).Failure);
        Assert.True((await validator.ValidateAsync(_ec.Issuer("https://other.example.test/", _time).Mint("alice", Audience, TimeSpan.FromMinutes(5)))).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_OnlyEs256Allowed_Rs256Refused()
    {
        var validator = Validator(new OidcValidationPolicy { Audiences = [Audience], Algorithms = ["ES256"] });

        Assert.Equal(TokenFailure.Algorithm, (await validator.ValidateAsync(_rsa.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(5)))).Failure);
    }

    [Fact]
    public async Task ValidateAsync_KeyRotatedIn_AcceptedAfterOneRefresh()
    {
        var validator = Validator();
        Assert.True((await validator.ValidateAsync(_ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(5)))).IsAccepted);
        var fetchesBefore = _documents.Count;
        using var rotated = LocalIssuerKey.Create(LocalIssuerKey.Rs256);
        Publish(_ec, _rsa, rotated);

        var verdict = await validator.ValidateAsync(rotated.Issuer(Issuer, _time).Mint("bob", Audience, TimeSpan.FromMinutes(5)));

        Assert.True(verdict.IsAccepted, verdict.Failure.ToString());
        Assert.Equal("bob", verdict.Caller!.Subject);
        Assert.Equal(2, _documents.Count - fetchesBefore); // one refresh: the discovery document and the key set
    }

    [Fact]
    public async Task ValidateAsync_FloodOfUnknownKids_AtMostOneRefreshPerInterval()
    {
        var validator = Validator(new OidcValidationPolicy { Audiences = [Audience], RefreshInterval = TimeSpan.FromMinutes(5) });
        Assert.True((await validator.ValidateAsync(_ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(30)))).IsAccepted);
        var fetchesBefore = _documents.Count;

        for (var i = 0; i < 20; i++)
        {
            using var stranger = LocalIssuerKey.Create(LocalIssuerKey.Es256);
            Assert.Equal(TokenFailure.UnknownKey, (await validator.ValidateAsync(stranger.Issuer(Issuer, _time).Mint("mallory", Audience, TimeSpan.FromMinutes(5)))).Failure);
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(2, _documents.Count - fetchesBefore);

        // Past the interval (on this clock, and the library's own one-second floor on the wall clock) one more is allowed.
        _time.Advance(TimeSpan.FromMinutes(5));
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        using var another = LocalIssuerKey.Create(LocalIssuerKey.Es256);
        Assert.Equal(TokenFailure.UnknownKey, (await validator.ValidateAsync(another.Issuer(Issuer, _time).Mint("mallory", Audience, TimeSpan.FromMinutes(5)))).Failure);
        Assert.Equal(4, _documents.Count - fetchesBefore);
    }

    [Fact]
    public async Task ValidateAsync_MetadataUnreachable_MetadataUnavailable()
    {
        File.Delete(MetadataPath);

        var verdict = await Validator().ValidateAsync(_ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(5)));

        Assert.Equal(TokenFailure.MetadataUnavailable, verdict.Failure);
    }

    [Theory]
    [InlineData("azp")]
    [InlineData("appid")]
    [InlineData("oid")]
    public async Task ValidateAsync_PinnedToAnIdentity_ItsTokenAccepted(string claim)
    {
        var token = _ec.Issuer(Issuer, _time).Mint(GatewayObjectId, ServiceAudience, TimeSpan.FromMinutes(10), claims: new Dictionary<string, string> { [claim] = GatewayClientId });

        var verdict = await new ServiceAuthenticator(PinnedValidator()).AuthenticateAsync("Bearer " + token);

        Assert.True(verdict.IsAccepted, verdict.Failure.ToString());
        Assert.Equal(GatewayObjectId, verdict.Caller!.Subject);
    }

    [Fact]
    public async Task ValidateAsync_PinnedIdentityClaimNotUtf8_Malformed()
    {
        // A token the issuer signed whose azp holds ill-formed UTF-8: refused when its claims are listed for the caller,
        // before the pin reads azp (which the library would read as U+FFFD), never an exception.
        var token = ForgedToken.For(Issuer, ServiceAudience, GatewayObjectId, _time.GetUtcNow(), TimeSpan.FromMinutes(10)).Key("ES256", _ec.KeyId);
        token.Payload["azp"] = "@@";
        var signed = token.Sign(_ec.SignData, ForgedToken.IllFormedUtf8);

        var verdict = await new ServiceAuthenticator(PinnedValidator()).AuthenticateAsync("Bearer " + signed);

        Assert.False(verdict.IsAccepted);
        Assert.Equal(TokenFailure.Malformed, verdict.Failure);
    }

    public static TheoryData<string, string, TokenFailure> PinRefusals() => new()
    {
        // A valid caller token of the same issuer: the caller audience, and no gateway identity.
        { "caller token", Audience, TokenFailure.Audience },
        // The service audience, from another identity of the issuer (any app of a tenant can ask for the audience).
        { "another identity", ServiceAudience, TokenFailure.CallerNotAllowed },
        // The service audience with no identity claims at all.
        { "no identity claims", ServiceAudience, TokenFailure.CallerNotAllowed },
        // The gateway's identity, but for the callers' audience (a token meant for another resource).
        { "gateway identity, caller audience", Audience, TokenFailure.Audience },
    };

    [Theory]
    [MemberData(nameof(PinRefusals))]
    public async Task ValidateAsync_PinnedToAnIdentity_OthersRefused(string token, string audience, TokenFailure expected)
    {
        var claims = token switch
        {
            "another identity" => new Dictionary<string, string> { ["azp"] = "3f0b5e0c-0000-4000-8000-00000000abcd", ["oid"] = "5d6c1e9a-0000-4000-8000-00000000abcd" },
            "gateway identity, caller audience" => new Dictionary<string, string> { ["azp"] = GatewayClientId, ["appid"] = GatewayClientId, ["oid"] = GatewayObjectId },
            _ => [],
        };
        var minted = _ec.Issuer(Issuer, _time).Mint("someone", audience, TimeSpan.FromMinutes(10), claims: claims);

        var verdict = await new ServiceAuthenticator(PinnedValidator()).AuthenticateAsync("Bearer " + minted);

        Assert.False(verdict.IsAccepted);
        Assert.Equal(expected, verdict.Failure);
    }

    [Fact]
    public async Task ValidateAsync_RefusedPinnedToken_NotRememberedAsVerified()
    {
        var validator = PinnedValidator();
        var stranger = _ec.Issuer(Issuer, _time).Mint("someone", ServiceAudience, TimeSpan.FromMinutes(10), claims: new Dictionary<string, string> { ["azp"] = "not-the-gateway" });

        Assert.Equal(TokenFailure.CallerNotAllowed, (await validator.ValidateAsync(stranger)).Failure);
        Assert.Equal(TokenFailure.CallerNotAllowed, (await validator.ValidateAsync(stranger)).Failure);
    }

    [Fact]
    public async Task AuthenticateAsync_CallerTokenOnTheCallerAuthenticator_SubjectAndRoles()
    {
        var token = _ec.Issuer(Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(5), ["scorer"]);

        var caller = (await new CallerAuthenticator(Validator()).AuthenticateAsync("Bearer " + token)).Caller;

        Assert.NotNull(caller);
        Assert.Equal("alice", caller.Subject);
        Assert.Equal(["scorer"], caller.Roles);
    }

    [Fact]
    public void Constructor_EmptyAllowedIdentity_Throws() =>
        Assert.ThrowsAny<ArgumentException>(() => Validator(new OidcValidationPolicy { Audiences = [ServiceAudience], AllowedIdentities = [" "] }));

    [Theory]
    [InlineData(61, "ES256")]
    [InlineData(30, "HS256")]
    [InlineData(30, "none")]
    public void Constructor_PolicyBeyondTheRules_Throws(int skewSeconds, string algorithm) =>
        Assert.ThrowsAny<ArgumentException>(() => Validator(new OidcValidationPolicy
        {
            Audiences = [Audience],
            ClockSkew = TimeSpan.FromSeconds(skewSeconds),
            Algorithms = [algorithm],
        }));

    private OidcTokenValidator Validator(OidcValidationPolicy? policy = null)
    {
        var manager = new ConfigurationManager<OpenIdConnectConfiguration>(MetadataPath, new OpenIdConnectConfigurationRetriever(), _documents)
        {
            RefreshInterval = ConfigurationManager<OpenIdConnectConfiguration>.MinimumRefreshInterval,
        };
        return new OidcTokenValidator(manager, policy ?? new OidcValidationPolicy { Audiences = [Audience] }, _time, NullLogger<OidcTokenValidator>.Instance);
    }

    // The inference app's validator: its own audience, pinned to the gateway's client id and object id.
    private OidcTokenValidator PinnedValidator() =>
        Validator(new OidcValidationPolicy { Audiences = [ServiceAudience], AllowedIdentities = [GatewayClientId, GatewayObjectId] });

    // The discovery document and key set as an issuer serves them.
    private void Publish(params LocalIssuerKey[] keys)
    {
        var keySet = Path.Combine(_folder.FullName, "keys.json");
        using (var stream = File.Create(keySet))
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var key in keys)
            {
                key.WritePublicJwk(json);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        File.WriteAllText(MetadataPath, new JsonObject { ["issuer"] = Issuer, ["jwks_uri"] = keySet }.ToJsonString());
    }

    private string Forge(string forgery)
    {
        var now = _time.GetUtcNow();
        ForgedToken Claims(string algorithm, string? keyId) => ForgedToken.For(Issuer, Audience, "mallory", now, TimeSpan.FromMinutes(10)).Key(algorithm, keyId);
        string Signed(ForgedToken token) => token.Sign(_ec.SignData);
        using var stranger = LocalIssuerKey.Create(LocalIssuerKey.Es256);
        switch (forgery)
        {
            case "alg none":
                return Claims("none", _ec.KeyId).Sign(ForgedToken.Unsigned);
            case "HS256 keyed with the RSA public key":
                return Claims("HS256", _rsa.KeyId).Sign(ForgedToken.Hmac(Encoding.ASCII.GetBytes(_rsa.ExportPublicKeyPem())));
            case "unknown kid":
                return Claims("ES256", stranger.KeyId).Sign(stranger.SignData);
            case "missing kid":
                return Signed(Claims("ES256", null));
            case "jku header":
            case "x5u header":
            {
                var token = Claims("ES256", _ec.KeyId);
                token.Header[forgery[..3]] = "https://attacker.example.test/keys";
                return Signed(token);
            }

            case "embedded jwk":
            {
                var token = Claims("ES256", _ec.KeyId);
                using var buffer = new MemoryStream();
                using (var json = new Utf8JsonWriter(buffer))
                {
                    _ec.WritePublicJwk(json);
                }

                token.Header["jwk"] = JsonNode.Parse(buffer.ToArray());
                return Signed(token);
            }

            case "x5c header":
            {
                var token = Claims("ES256", _ec.KeyId);
                token.Header["x5c"] = new JsonArray("MIIB");
                return Signed(token);
            }

            case "crit header":
            {
                var token = Claims("ES256", _ec.KeyId);
                token.Header["crit"] = new JsonArray("exp");
                return Signed(token);
            }

            case "wrong aud":
                return Signed(ForgedToken.For(Issuer, "api://someone-else", "mallory", now, TimeSpan.FromMinutes(10)).Key("ES256", _ec.KeyId));
            case "wrong iss":
                return Signed(ForgedToken.For("https://login.example.test/tenant-2/v2.0", Audience, "mallory", now, TimeSpan.FromMinutes(10)).Key("ES256", _ec.KeyId));
            case "expired beyond skew":
                return Signed(ForgedToken.For(Issuer, Audience, "mallory", now - TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(19)).Key("ES256", _ec.KeyId));
            case "nbf in the future":
                return Signed(ForgedToken.For(Issuer, Audience, "mallory", now + TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10)).Key("ES256", _ec.KeyId));
            case "iat a year ahead and no nbf, so exp - iat is short":
            {
                var token = ForgedToken.For(Issuer, Audience, "mallory", now + TimeSpan.FromDays(365), TimeSpan.FromHours(1)).Key("ES256", _ec.KeyId);
                token.Payload.Remove("nbf");
                return Signed(token);
            }

            case "no exp":
            {
                var token = Claims("ES256", _ec.KeyId);
                token.Payload.Remove("exp");
                return Signed(token);
            }

            case "lifetime over the maximum":
                return Signed(ForgedToken.For(Issuer, Audience, "mallory", now, TokenLifetimes.DefaultMax + TimeSpan.FromSeconds(1)).Key("ES256", _ec.KeyId));
            case "neither nbf nor iat, in the last hour of a year's lifetime":
            {
                // Measured from now it would pass: revocations are kept for one lifetime, long gone by then (review 2026-12-07).
                var token = ForgedToken.For(Issuer, Audience, "mallory", now - TimeSpan.FromDays(365), TimeSpan.FromDays(365) + TimeSpan.FromHours(1)).Key("ES256", _ec.KeyId);
                token.Payload.Remove("nbf");
                token.Payload.Remove("iat");
                return Signed(token);
            }

            case "no sub":
            {
                var token = Claims("ES256", _ec.KeyId);
                token.Payload.Remove("sub");
                return Signed(token);
            }

            case "payload altered after signing":
                return ForgedToken.Altered(Signed(Claims("ES256", _ec.KeyId)), "sub", "admin");
            case "RS256 header over an EC key":
                return Claims("RS256", _ec.KeyId).Sign(_rsa.SignData);
            case "oversized":
            {
                var token = Claims("ES256", _ec.KeyId);
                token.Payload["padding"] = new string('a', 20_000);
                return Signed(token);
            }

            case "not a JWT":
                return "not-a-jwt";
            case "encrypted (five parts)":
                return "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d";
            case "header not JSON":
                return "eyJhbGciOi.eyJzdWIiOiJtYWxsb3J5In0.c2ln";
            case "header a JSON array":
                return "WyJFUzI1NiJd.eyJzdWIiOiJtYWxsb3J5In0.c2ln";
            case "payload not JSON":
            {
                var parts = Signed(Claims("ES256", _ec.KeyId)).Split('.');
                return parts[0] + ".bm90IGpzb24." + parts[2]; // "not json"
            }

            case "a role not UTF-8, signed by the issuer":
            {
                // Found by the headers fuzz target: the library reads such a claim only when the claims are listed.
                var token = Claims("ES256", _ec.KeyId);
                token.Payload["roles"] = new JsonArray("scorer", "@@");
                return token.Sign(_ec.SignData, ForgedToken.IllFormedUtf8);
            }

            case "iat past the year 9999, signed by the issuer":
            {
                // Found by the headers fuzz target: beyond what a DateTimeOffset holds.
                var token = Claims("ES256", _ec.KeyId);
                token.Payload["iat"] = 180_000_000_000_000L;
                return Signed(token);
            }

            case "iat not a number, signed by the issuer":
            {
                var token = Claims("ES256", _ec.KeyId);
                token.Payload["iat"] = "yesterday";
                return Signed(token);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(forgery), forgery, null);
        }
    }

    /// <summary>The library's file retriever, counting every document it reads.</summary>
    private sealed class CountingRetriever(IDocumentRetriever inner) : IDocumentRetriever
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public Task<string> GetDocumentAsync(string address, CancellationToken cancel)
        {
            Interlocked.Increment(ref _count);
            return inner.GetDocumentAsync(address, cancel);
        }
    }
}
