using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Egress;

namespace ServerlessServe.Hosting.Tests.Identity;

/// <summary>
/// Caller authentication is closed by default: without an issuer and an audience, or with settings that would weaken
/// validation, the host does not start; the issuer's host is on the egress allow-list without being listed.
/// </summary>
public sealed class CallerAuthOptionsTests
{
    private static readonly KeyValuePair<string, string?>[] EntraId =
    [
        new("ServerlessServe:Identity:Authority", "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0"),
        new("ServerlessServe:Identity:Audiences:0", "api://serverlessserve"),
    ];

    [Theory]
    [InlineData("ServerlessServe:Identity:Authority", "", "Authority")]
    [InlineData("ServerlessServe:Identity:Audiences:0", null, "Audiences")]
    [InlineData("ServerlessServe:Identity:Audiences:1", " ", "Audiences:1")]
    [InlineData("ServerlessServe:Identity:Audiences:0", "api://serverlessserve/", "must not end with '/'")]
    [InlineData("ServerlessServe:Identity:ClockSkew", "00:01:01", "ClockSkew")]
    [InlineData("ServerlessServe:Identity:Algorithms:0", "HS256", "HS256")]
    [InlineData("ServerlessServe:Identity:Algorithms:0", "none", "Algorithms")]
    [InlineData("ServerlessServe:Identity:RequireHttpsMetadata", "false", "loopback")]
    [InlineData("ServerlessServe:Identity:MetadataAddress", "http://login.microsoftonline.com/x/.well-known/openid-configuration", "https")]
    [InlineData("ServerlessServe:Identity:Authority", "ftp://issuer.example.test", "Authority")]
    [InlineData("ServerlessServe:Identity:MaxTokenLength", "300000", "MaxTokenLength")]
    [InlineData("ServerlessServe:Identity:RefreshInterval", "00:00:00", "RefreshInterval")]
    public async Task StartAsync_WeakOrMissingSetting_FailsNamingIt(string key, string? value, string named)
    {
        var settings = EntraId.Where(s => s.Key != key).ToList();
        if (value is not null)
        {
            settings.Add(new(key, value));
        }

        using var host = Host([.. settings]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NoIdentitySection_FailsNamingAuthority()
    {
        using var host = Host([]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Authority", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_LoopbackIssuerOverHttp_Starts()
    {
        using var host = Host(
        [
            new("ServerlessServe:Identity:Authority", "http://127.0.0.1:1"),
            new("ServerlessServe:Identity:Audiences:0", "api://serverlessserve"),
            new("ServerlessServe:Identity:RequireHttpsMetadata", "false"),
        ]);

        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void EgressAllowList_EntraIdAuthority_AllowsItsMetadataAndKeysOnly()
    {
        using var host = Host([.. EntraId, new("ServerlessServe:Identity:MetadataAddress", "https://metadata.example.test/tenant/.well-known/openid-configuration")]);

        var allowList = host.Services.GetRequiredService<EgressAllowList>();

        Assert.True(allowList.Allows(new Uri("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/discovery/v2.0/keys")));
        Assert.True(allowList.Allows(new Uri("https://metadata.example.test/tenant/.well-known/openid-configuration")));
        Assert.False(allowList.Allows(new Uri("https://attacker.example.test/keys")));
    }

    private static IHost Host(KeyValuePair<string, string?>[] settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true")]);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServerlessServe().AddCallerAuthentication();
        return builder.Build();
    }
}
