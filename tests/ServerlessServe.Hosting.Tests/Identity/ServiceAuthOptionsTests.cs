using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Egress;

namespace ServerlessServe.Hosting.Tests.Identity;

/// <summary>
/// Service authentication on the inference app is closed by default: without an issuer, its own audience and at least
/// one allowed identity (the gateway's) the host does not start; the gateway's token settings likewise need the
/// inference app's resource. Both issuers' hosts are on the egress allow-list without being listed.
/// </summary>
public sealed class ServiceAuthOptionsTests
{
    private static readonly KeyValuePair<string, string?>[] EntraId =
    [
        new("ServerlessServe:ServiceAuth:Authority", "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0"),
        new("ServerlessServe:ServiceAuth:Audiences:0", "api://serverlessserve-inference"),
        new("ServerlessServe:ServiceAuth:AllowedIdentities:0", "32a33733-dc73-490e-a481-677cd5a9dc0f"),
    ];

    [Theory]
    [InlineData("ServerlessServe:ServiceAuth:Authority", null, "Authority")]
    [InlineData("ServerlessServe:ServiceAuth:Audiences:0", null, "Audiences")]
    [InlineData("ServerlessServe:ServiceAuth:AllowedIdentities:0", null, "AllowedIdentities")]
    [InlineData("ServerlessServe:ServiceAuth:AllowedIdentities:0", " ", "ServerlessServe:ServiceAuth:AllowedIdentities:0")]
    [InlineData("ServerlessServe:ServiceAuth:RequireHttpsMetadata", "false", "ServerlessServe:ServiceAuth:RequireHttpsMetadata")]
    [InlineData("ServerlessServe:ServiceAuth:Algorithms:0", "HS256", "HS256")]
    public async Task InferenceApp_WeakOrMissingSetting_FailsNamingIt(string key, string? value, string named)
    {
        var settings = EntraId.Where(s => s.Key != key).ToList();
        if (value is not null)
        {
            settings.Add(new(key, value));
        }

        using var host = Inference([.. settings]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InferenceApp_LoopbackIssuerAndAnAllowedIdentity_Starts()
    {
        using var host = Inference(
        [
            new("ServerlessServe:ServiceAuth:Authority", "http://127.0.0.1:1"),
            new("ServerlessServe:ServiceAuth:Audiences:0", "api://serverlessserve-inference"),
            new("ServerlessServe:ServiceAuth:RequireHttpsMetadata", "false"),
            new("ServerlessServe:ServiceAuth:AllowedIdentities:0", "32a33733-dc73-490e-a481-677cd5a9dc0f"),
        ]);

        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void EgressAllowList_ServiceIssuer_AllowedWithoutBeingListed()
    {
        using var host = Inference([.. EntraId]);

        var allowList = host.Services.GetRequiredService<EgressAllowList>();

        Assert.True(allowList.Allows(new Uri("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/discovery/v2.0/keys")));
        Assert.False(allowList.Allows(new Uri("https://attacker.example.test/keys")));
    }

    [Fact]
    public async Task Gateway_NoInferenceResource_FailsNamingIt()
    {
        using var host = Gateway([]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Resource", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData(null, "0f0e0d0c-0000-4000-8000-000000000001", "0f0e0d0c-0000-4000-8000-000000000001")]
    [InlineData("0a0b0c0d-0000-4000-8000-000000000002", "0f0e0d0c-0000-4000-8000-000000000001", "0a0b0c0d-0000-4000-8000-000000000002")]
    public void Gateway_ClientId_ConfiguredElseAzureClientIdElseSystemAssigned(string? configured, string? azureClientId, string? expected)
    {
        var settings = new List<KeyValuePair<string, string?>> { new("ServerlessServe:ServiceToken:Resource", "api://serverlessserve-inference") };
        if (configured is not null)
        {
            settings.Add(new("ServerlessServe:ServiceToken:ClientId", configured));
        }

        if (azureClientId is not null)
        {
            settings.Add(new("AZURE_CLIENT_ID", azureClientId));
        }

        using var host = Gateway([.. settings]);

        Assert.Equal(expected, host.Services.GetRequiredService<IOptions<Options.ServiceTokenOptions>>().Value.ClientId);
    }

    private static IHost Inference(KeyValuePair<string, string?>[] settings) => Host(settings, builder => builder.AddServiceAuthentication());

    private static IHost Gateway(KeyValuePair<string, string?>[] settings) => Host(settings, builder => builder.AddServiceTokens());

    private static IHost Host(KeyValuePair<string, string?>[] settings, Action<IServerlessServeBuilder> feature)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true")]);
        builder.Configuration.AddInMemoryCollection(settings);
        feature(builder.AddServerlessServe());
        return builder.Build();
    }
}
