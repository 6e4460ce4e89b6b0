using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;
using ServerlessServe.Hosting.Options;

namespace ServerlessServe.Benchmarks;

/// <summary>
/// Caller authentication: validating an ES256 bearer token (signature, issuer, audience, lifetime, roles) with the
/// validator configured as the gateway configures it (issuer public key from PEM, <see cref="CallerAuthOptions"/> defaults).
/// </summary>
[MemoryDiagnoser]
public class IdentityBenchmarks
{
    private readonly CallerAuthOptions _options = new();
    private ECDsa _issuerKey = null!;
    private ECDsa _trustedKey = null!;
    private TokenValidator _validator = null!;
    private string _token = null!;

    [GlobalSetup]
    public void Setup()
    {
        _issuerKey = SigningKeys.CreateP256();
        _trustedKey = SigningKeys.ImportPem(SigningKeys.ExportPublicKeyPem(_issuerKey));
        _validator = new TokenValidator([_trustedKey], _options.Issuer, _options.Audience, TimeProvider.System, _options.MaxTokenLifetime, _options.ClockSkew);
        var issuer = new TokenIssuer(_issuerKey, _options.Issuer, TimeProvider.System);
        _token = issuer.Mint("00000000-aaaa-bbbb-cccc-000000000001", _options.Audience, TimeSpan.FromHours(1), ["scorer"]);
        if (_validator.ValidateAsync(_token).GetAwaiter().GetResult() is null)
        {
            throw new InvalidOperationException("The benchmark token does not validate.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _trustedKey.Dispose();
        _issuerKey.Dispose();
    }

    [Benchmark]
    public Task<CallerIdentity?> ValidateAsync_Es256() => _validator.ValidateAsync(_token);
}
