using Azure.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Artifacts;
using ServerlessServe.Core.Audit;
using ServerlessServe.Hosting.DependencyInjection;

namespace ServerlessServe.Hosting.Tests.DependencyInjection;

/// <summary>
/// <c>ServerlessServe:Audit:Witness:ManagedIdentityClientId</c>: the witness account is written with the user-assigned
/// identity it names (in Azure the witness identity, beside the app's own), else with the default credential.
/// </summary>
public sealed class AuditWitnessCredentialTests
{
    private const string ClientId = "0b7e2c4f-1a2b-4c3d-8e9f-0123456789ab";

    [Fact]
    public void Options_WitnessClientId_IsBoundFromTheSetting()
    {
        using var host = Host([new("ServerlessServe:Audit:Witness:ManagedIdentityClientId", ClientId)]);

        var witness = host.Services.GetRequiredService<IOptions<AuditOptions>>().Value.Witness;

        Assert.Equal(ClientId, witness.ManagedIdentityClientId);
    }

    [Fact]
    public void Options_NoWitnessClientId_DefaultsToNull()
    {
        using var host = Host([]);

        Assert.Null(host.Services.GetRequiredService<IOptions<AuditOptions>>().Value.Witness.ManagedIdentityClientId);
    }

    [Theory]
    [InlineData("not-a-client-id")]
    [InlineData("0b7e2c4f1a2b4c3d8e9f0123456789ab")]
    [InlineData("https://example.invalid/0b7e2c4f-1a2b-4c3d-8e9f-0123456789ab")]
    public async Task StartAsync_WitnessClientIdNotAGuid_FailsNamingIt(string value)
    {
        using var host = Host([new("ServerlessServe:Audit:Witness:ManagedIdentityClientId", value)]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("ManagedIdentityClientId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WitnessCredential_ClientIdSet_IsAManagedIdentityCredential()
    {
        var credential = AuditBuilderExtensions.WitnessCredential(new AuditWitnessOptions { ManagedIdentityClientId = ClientId });

        Assert.IsType<ManagedIdentityCredential>(credential);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void WitnessCredential_NoClientId_IsTheDefaultCredential(string? clientId)
    {
        var credential = AuditBuilderExtensions.WitnessCredential(new AuditWitnessOptions { ManagedIdentityClientId = clientId });

        Assert.IsType<DefaultAzureCredential>(credential);
    }

    private static IHost Host(KeyValuePair<string, string?>[] settings)
    {
        using var checkpointKey = SigningKeys.CreateP256();
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        // Everything else the audit options require, valid, so that only the witness setting can fail.
        builder.Configuration.AddInMemoryCollection(
        [
            new("ServerlessServe:Storage:ConnectionString", "UseDevelopmentStorage=true"),
            new("ServerlessServe:Audit:PseudonymKey", Convert.ToBase64String(new byte[32])),
            new("ServerlessServe:Audit:CheckpointKeyPem", SigningKeys.ExportPrivateKeyPem(checkpointKey)),
        ]);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServerlessServe().AddAuditLog();
        return builder.Build();
    }
}
