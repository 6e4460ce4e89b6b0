using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Identity;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Local;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// The access checks of one request, as the gateway's <c>admit</c>, <c>authenticate</c>, <c>misses</c>, <c>contain</c>
/// and <c>limit</c> stages do them, for a caller reusing its token (the steady state): global admission, the cached
/// token validation, the caller's pseudonym, the caller's misses, the containment lookups (revoked token, revoked caller, block, throttle) and the
/// caller's rate and concurrency limiters, leases released at the end. 4,096 callers take turns, so each limiter sees
/// the rate of a busy caller, not of one caller at millions of requests a second. The containment view here is empty
/// (a lookup is one dictionary read either way); the shared daily budget (<c>budget</c>) spends a slice leased in
/// memory and is measured by the integration flood, not here.
/// </summary>
[MemoryDiagnoser]
public class AccessBenchmarks
{
    private const string Issuer = "https://login.example.test/tenant/v2.0";
    private const string Audience = "api://serverlessserve";
    private const int Callers = 4096;

    private readonly LocalIssuerKey _key = LocalIssuerKey.Create(LocalIssuerKey.Es256);
    private readonly string[] _headers = new string[Callers];
    private CallerAuthenticator _authenticator = null!;
    private CallerPseudonymizer _pseudonymizer = null!;
    private ContainmentRegistry _containment = null!;
    private RequestLimits _limits = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
        using (var buffer = new MemoryStream())
        {
            using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
            {
                _key.WritePublicJwk(json);
            }

            configuration.SigningKeys.Add(JsonWebKey.Create(System.Text.Encoding.UTF8.GetString(buffer.ToArray())));
        }

        var validator = new OidcTokenValidator(
            new StaticConfigurationManager<OpenIdConnectConfiguration>(configuration),
            new CallerAuthOptions { Audiences = [Audience] }.ToPolicy(),
            TimeProvider.System,
            NullLogger<OidcTokenValidator>.Instance);
        _authenticator = new CallerAuthenticator(validator);
        _pseudonymizer = new CallerPseudonymizer(new byte[32]);
        _containment = new ContainmentRegistry(
            new ContainmentStore(new TableServiceClient("UseDevelopmentStorage=true").GetTableClient("containment")),
            TimeProvider.System,
            NullLogger<ContainmentRegistry>.Instance);
        _limits = new RequestLimits(Options.Create(new LimitOptions()));
        var issuer = _key.Issuer(Issuer, TimeProvider.System);
        for (var i = 0; i < Callers; i++)
        {
            _headers[i] = "Bearer " + issuer.Mint($"00000000-aaaa-bbbb-cccc-{i:x12}", Audience, TimeSpan.FromHours(1), ["scorer"]);
            if (!_authenticator.AuthenticateAsync(_headers[i]).GetAwaiter().GetResult().IsAccepted)
            {
                throw new InvalidOperationException("A benchmark token does not validate.");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _limits.Dispose();
        _key.Dispose();
    }

    /// <summary>admit, authenticate (cached token), misses, contain and limit of one request, and the leases' release.</summary>
    [Benchmark]
    public async Task<bool> AdmitAuthenticateContainLimit()
    {
        var header = _headers[_next++ & (Callers - 1)];
        if (_limits.TryAdmit(out var admission) is not null)
        {
            return false;
        }

        using (admission)
        {
            var verdict = await _authenticator.AuthenticateAsync(header).ConfigureAwait(false);
            if (verdict.Caller is not { } caller)
            {
                return false;
            }

            var pseudonym = _pseudonymizer.Pseudonymize(caller.Subject);
            if (_limits.ReserveMiss(pseudonym, out var miss) is not null)
            {
                return false;
            }

            // authorize passed (as the pipeline's stage settles it): not a miss.
            miss!.Settle(miss: false);

            var standing = _containment.Standing(pseudonym);
            if (standing.IsRevoked(caller.IssuedAt) || _containment.IsTokenRevoked(caller.TokenId) || standing.Blocked)
            {
                return false;
            }

            if (_limits.TryAcquire(pseudonym, "credit-risk", null, out var lease) is not null)
            {
                return false;
            }

            lease!.Dispose();
            return true;
        }
    }
}
