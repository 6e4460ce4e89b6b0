using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using ServerlessServe.Core.Identity;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Local;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// Caller authentication: validating a caller bearer token with the validator configured as the gateway configures it
/// (<see cref="CallerAuthOptions"/> defaults), against an issuer configuration already fetched (the steady state; the
/// metadata is fetched every 12 hours). A repeated token is answered from the verified-token cache; the first sight of
/// one costs the signature check (ES256 or RS256).
/// </summary>
[MemoryDiagnoser]
public class IdentityBenchmarks
{
    private const string Issuer = "https://login.example.test/tenant/v2.0";
    private const string Audience = "api://serverlessserve";

    private readonly LocalIssuerKey _ec = LocalIssuerKey.Create(LocalIssuerKey.Es256);
    private readonly LocalIssuerKey _rsa = LocalIssuerKey.Create(LocalIssuerKey.Rs256);
    private OidcTokenValidator _validator = null!;
    private string _es256 = null!;
    private string _rs256 = null!;
    private OidcValidationPolicy _policy = null!;
    private StaticConfigurationManager<OpenIdConnectConfiguration> _metadata = null!;

    [GlobalSetup]
    public void Setup()
    {
        var configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
        foreach (var key in new[] { _ec, _rsa })
        {
            configuration.SigningKeys.Add(JsonWebKey.Create(Jwk(key)));
        }

        _metadata = new StaticConfigurationManager<OpenIdConnectConfiguration>(configuration);
        _policy = new CallerAuthOptions { Audiences = [Audience] }.ToPolicy();
        _validator = new OidcTokenValidator(_metadata, _policy, TimeProvider.System, NullLogger<OidcTokenValidator>.Instance);
        _es256 = _ec.Issuer(Issuer, TimeProvider.System).Mint("00000000-aaaa-bbbb-cccc-000000000001", Audience, TimeSpan.FromHours(1), ["scorer"]);
        _rs256 = _rsa.Issuer(Issuer, TimeProvider.System).Mint("00000000-aaaa-bbbb-cccc-000000000002", Audience, TimeSpan.FromHours(1), ["scorer"]);
        foreach (var token in new[] { _es256, _rs256 })
        {
            if (!_validator.ValidateAsync(token).GetAwaiter().GetResult().IsAccepted)
            {
                throw new InvalidOperationException("A benchmark token does not validate.");
            }
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ec.Dispose();
        _rsa.Dispose();
    }

    /// <summary>A token seen before: the cache (SHA-256 of the token), the common case of a caller reusing its token.</summary>
    [Benchmark(Baseline = true)]
    public Task<TokenVerdict> ValidateAsync_Cached() => _validator.ValidateAsync(_es256);

    /// <summary>First sight of an ES256 token: parse, screen, key lookup, signature, claims (a fresh validator, empty cache).</summary>
    [Benchmark]
    public Task<TokenVerdict> ValidateAsync_FirstSight_Es256() => Fresh().ValidateAsync(_es256);

    /// <summary>First sight of an RS256 token (as Entra ID signs).</summary>
    [Benchmark]
    public Task<TokenVerdict> ValidateAsync_FirstSight_Rs256() => Fresh().ValidateAsync(_rs256);

    private OidcTokenValidator Fresh() => new(_metadata, _policy, TimeProvider.System, NullLogger<OidcTokenValidator>.Instance);

    private static string Jwk(LocalIssuerKey key)
    {
        using var buffer = new MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            key.WritePublicJwk(json);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
