using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Hosting.DependencyInjection;

namespace ServerlessServe.Hosting.Tests.DependencyInjection;

/// <summary>Invalid settings stop the host at start, with a message that names the setting.</summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("ServerlessServe:Protocol:MaxJsonDepth", "1", "MaxJsonDepth")]
    [InlineData("ServerlessServe:Storage:MaxRetries", "99", "MaxRetries")]
    [InlineData("ServerlessServe:Egress:AllowedHosts:0", "not a host", "ServerlessServe:Egress:AllowedHosts:0")]
    [InlineData("ServerlessServe:Models:UploadConcurrency", "0", "UploadConcurrency")]
    [InlineData("ServerlessServe:ModelCatalog:LatestCacheTtl", "02:00:00", "LatestCacheTtl")]
    [InlineData("ServerlessServe:Extraction:Delta", "2", "Delta")]
    [InlineData("ServerlessServe:Extraction:OutOfDistributionMinRows", "500", "OutOfDistributionMinRows")]
    [InlineData("ServerlessServe:Extraction:Store:FlushInterval", "00:00:00.001", "FlushInterval")]
    [InlineData("ServerlessServe:Extraction:Store:TableName", "no-hyphens", "TableName")]
    [InlineData("ServerlessServe:Edge:ReceiveBlockMemoryBytes", "-1", "ReceiveBlockMemoryBytes")]
    [InlineData("ServerlessServe:Edge:ReceiveBlockMemoryBytes", "2147483648", "ReceiveBlockMemoryBytes")]
    [InlineData("ServerlessServe:Storage:BlobServiceUri", "https://blobs.internal.example/", "TableServiceUri")]
    public async Task StartAsync_InvalidSetting_FailsNamingIt(string key, string value, string named)
    {
        using var host = Host([new(key, value)]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_NoStorage_FailsNamingBothSettings()
    {
        using var host = Host([], storage: false);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("ServerlessServe:Storage:ConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_ValidSettings_Starts()
    {
        using var host = Host([]);

        await host.StartAsync();
        await host.StopAsync();
    }

    private static IHost Host(KeyValuePair<string, string?>[] settings, bool storage = true)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (storage)
        {
            builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true")]);
        }

        builder.Configuration.AddInMemoryCollection(settings);
        // The alarms' destination is the gateway's (audit and containment); these hosts only check their settings.
        builder.Services.AddSingleton<ISecurityEvents>(new RecordingSecurityEvents());
        builder.AddServerlessServe().AddModelCatalog().AddExtractionDetection();
        return builder.Build();
    }
}
