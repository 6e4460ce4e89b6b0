using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Hosting.DependencyInjection;

namespace ServerlessServe.Hosting.Tests.Tripwires;

/// <summary><c>ServerlessServe:Canaries</c>: off by default, invalid settings stop the host naming the key, never a canary value.</summary>
public sealed class CanaryOptionsTests
{
    [Theory]
    [InlineData("ServerlessServe:Canaries:Tokens:0", "too-short-value", "ServerlessServe:Canaries:Tokens:0")]
    [InlineData("ServerlessServe:Canaries:Tokens:0", "a canary value with spaces", "ServerlessServe:Canaries:Tokens:0")]
    [InlineData("ServerlessServe:Canaries:HoneyModels:0", "Payroll Model", "ServerlessServe:Canaries:HoneyModels:0")]
    [InlineData("ServerlessServe:Canaries:HoneySubjects:0", " ", "ServerlessServe:Canaries:HoneySubjects:0")]
    [InlineData("ServerlessServe:Canaries:Action", "Quarantine", "ServerlessServe:Canaries:Action")]
    [InlineData("ServerlessServe:Canaries:BlockFor", "00:00:00", "BlockFor")]
    public async Task StartAsync_InvalidSetting_FailsNamingItNeverTheValue(string key, string value, string named)
    {
        using var host = Host([new(key, value)]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        if (key.Contains("Tokens", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Defaults_EverythingOff_BlockForAnHour()
    {
        using var host = Host([]);
        await host.StartAsync();

        var canaries = host.Services.GetRequiredService<Canaries>();
        Assert.True(canaries.Tokens.IsEmpty);
        Assert.Equal((0, 0), (canaries.HoneyModelCount, canaries.HoneySubjectCount));
        Assert.Equal(new ContainmentAction(ContainmentKind.Block, TimeSpan.FromHours(1)), canaries.Action);
        await host.StopAsync();
    }

    [Fact]
    public async Task Settings_Bound()
    {
        using var host = Host(
        [
            new("ServerlessServe:Canaries:Tokens:0", "first-canary-value-0001"),
            new("ServerlessServe:Canaries:HoneyModels:0", "payroll-model"),
            new("ServerlessServe:Canaries:HoneySubjects:0", "break-glass-admin"),
            new("ServerlessServe:Canaries:Action", "throttle"),
            new("ServerlessServe:Canaries:BlockFor", "00:10:00"),
            new("ServerlessServe:Canaries:ThrottleRequestsPerMinute", "2"),
        ]);
        await host.StartAsync();

        var canaries = host.Services.GetRequiredService<Canaries>();
        Assert.Equal([CanaryTokens.IdOf("first-canary-value-0001")], canaries.Tokens.Ids);
        Assert.True(canaries.IsHoneyModel("payroll-model"));
        Assert.True(canaries.IsHoneySubject("break-glass-admin"));
        Assert.Equal(new ContainmentAction(ContainmentKind.Throttle, TimeSpan.FromMinutes(10), 2), canaries.Action);
        await host.StopAsync();
    }

    private static IHost Host(KeyValuePair<string, string?>[] settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true")]);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton(new CallerPseudonymizer(new byte[32]));
        builder.Services.AddSingleton<ISecurityEvents>(new RecordingSecurityEvents());
        builder.AddServerlessServe().AddCanaries();
        return builder.Build();
    }
}
