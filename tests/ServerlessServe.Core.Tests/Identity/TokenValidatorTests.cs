using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Identity;

namespace ServerlessServe.Core.Tests.Identity;

public sealed class TokenValidatorTests : IDisposable
{
    private const string Issuer = "serverlessserve-local";
    private const string Audience = "serverlessserve";
    private readonly ECDsa _key = SigningKeys.CreateP256();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _key.Dispose();

    [Fact]
    public async Task ValidateAsync_ValidToken_ReturnsSubjectAndRoles()
    {
        var token = Issue().Mint("alice", Audience, TimeSpan.FromMinutes(10), ["scorer", "auditor"]);
        var caller = (await Validator().ValidateAsync(token)).Caller;
        Assert.NotNull(caller);
        Assert.Equal("alice", caller.Subject);
        Assert.Equal(["scorer", "auditor"], caller.Roles);
    }

    [Fact]
    public async Task ValidateAsync_Expired_Refused()
    {
        var token = Issue().Mint("alice", Audience, TimeSpan.FromMinutes(10));
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.False((await Validator().ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_RememberedTokenPastExpiry_Refused()
    {
        var validator = Validator();
        var token = Issue().Mint("alice", Audience, TimeSpan.FromMinutes(10));
        Assert.True((await validator.ValidateAsync(token)).IsAccepted);
        Assert.True((await validator.ValidateAsync(token)).IsAccepted);
        _time.Advance(TimeSpan.FromMinutes(11));
        Assert.False((await validator.ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_WithinClockSkew_Accepted()
    {
        var token = Issue().Mint("alice", Audience, TimeSpan.FromMinutes(10));
        _time.Advance(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(20));
        Assert.True((await Validator().ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_WrongAudience_Refused() =>
        Assert.False((await Validator().ValidateAsync(Issue().Mint("alice", "someone-else", TimeSpan.FromMinutes(10)))).IsAccepted);

    [Fact]
    public async Task ValidateAsync_WrongIssuer_Refused()
    {
        var token = new TokenIssuer(_key, "another-issuer", _time).Mint("alice", Audience, TimeSpan.FromMinutes(10));
        Assert.False((await Validator().ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_UnknownKey_Refused()
    {
        using var other = SigningKeys.CreateP256();
        var token = new TokenIssuer(other, Issuer, _time).Mint("alice", Audience, TimeSpan.FromMinutes(10));
        Assert.False((await Validator().ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_LifetimeAboveMaximum_Refused() =>
        Assert.False((await Validator().ValidateAsync(Issue().Mint("alice", Audience, TimeSpan.FromHours(25)))).IsAccepted);

    [Fact]
    public async Task ValidateAsync_AlgNone_Refused()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var exp = _time.GetUtcNow().AddMinutes(5).ToUnixTimeSeconds();
        var token = B64("""{"alg":"none","typ":"JWT"}""") + "." + B64($$"""{"sub":"mallory","iss":"{{Issuer}}","aud":"{{Audience}}","exp":{{exp}},"nbf":{{exp - 600}}}""") + ".";
        Assert.False((await Validator().ValidateAsync(token)).IsAccepted);
    }

    [Fact]
    public async Task ValidateAsync_TamperedPayload_Refused()
    {
        var parts = Issue().Mint("alice", Audience, TimeSpan.FromMinutes(10)).Split('.');
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(Pad(parts[1]))).Replace("alice", "admin", StringComparison.Ordinal);
        parts[1] = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.False((await Validator().ValidateAsync(string.Join('.', parts))).IsAccepted);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-token")]
    [InlineData("a.b.c")]
    public async Task ValidateAsync_Garbage_Refused(string? token) => Assert.False((await Validator().ValidateAsync(token)).IsAccepted);

    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer  abc ", "abc")]
    [InlineData("Basic abc", null)]
    [InlineData("Bearer", null)]
    [InlineData(null, null)]
    public void BearerToken_HeaderForms_Extracted(string? header, string? expected) => Assert.Equal(expected, TokenValidator.BearerToken(header));

    [Fact]
    public void ServiceTokenSource_ReusesTokenUntilRenewal()
    {
        var source = new ServiceTokenSource(Issue(), "serverlessserve-inference", TimeSpan.FromMinutes(5), _time);
        var first = source.GetToken();
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(first, source.GetToken());
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.NotEqual(first, source.GetToken());
    }

    [Fact]
    public async Task ServiceTokenSource_ConcurrentCallersAtRenewal_OneNewTokenForAll()
    {
        var source = new ServiceTokenSource(Issue(), "serverlessserve-inference", TimeSpan.FromMinutes(5), _time);
        var first = source.GetToken();
        _time.Advance(TimeSpan.FromMinutes(4));
        using var start = new ManualResetEventSlim();

        var tokens = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
        {
            start.Wait();
            return source.GetToken();
        })).Append(Task.Run(() =>
        {
            start.Set();
            return source.GetToken();
        })));

        var renewed = Assert.Single(tokens.Distinct(StringComparer.Ordinal));
        Assert.NotEqual(first, renewed);
        Assert.Equal(3, renewed.Split('.').Length);
    }

    private static string Pad(string base64Url)
    {
        var s = base64Url.Replace('-', '+').Replace('_', '/');
        return s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
    }

    private TokenIssuer Issue() => new(_key, Issuer, _time);

    private TokenValidator Validator() => new([_key], Issuer, Audience, _time, TimeSpan.FromHours(24), TimeSpan.FromSeconds(30));

}
