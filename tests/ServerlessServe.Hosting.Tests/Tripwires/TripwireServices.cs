using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Audit;
using ServerlessServe.Core.Security;
using ServerlessServe.Core.Tests.Security;
using ServerlessServe.Hosting.DependencyInjection;
using ServerlessServe.Hosting.Tripwires;

namespace ServerlessServe.Hosting.Tests.Tripwires;

/// <summary>
/// The platform's services with <c>AddCanaries</c> on the given settings, its alarm service started, and a recording
/// <see cref="ISecurityEvents"/>. Stopping the service raises every hit still queued, so after <see cref="StopAsync"/>
/// the recorder holds all of them.
/// </summary>
internal sealed class TripwireServices : IAsyncDisposable
{
    private readonly CanaryAlarmService _service;
    private bool _stopped;

    private TripwireServices(ServiceProvider provider)
    {
        Provider = provider;
        Events = (RecordingSecurityEvents)provider.GetRequiredService<ISecurityEvents>();
        _service = provider.GetServices<IHostedService>().OfType<CanaryAlarmService>().Single();
    }

    public ServiceProvider Provider { get; }

    public RecordingSecurityEvents Events { get; }

    public CanaryAlarmQueue Queue => Provider.GetRequiredService<CanaryAlarmQueue>();

    public static async Task<TripwireServices> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServerlessServe:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["ServerlessServe:Gateway:InferenceBaseUrl"] = "http://127.0.0.1:7072/api",
        }).AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton(new CallerPseudonymizer(RandomNumberGenerator.GetBytes(32)));
        services.AddSingleton<ISecurityEvents>(new RecordingSecurityEvents());
        services.AddServerlessServe(configuration).AddCanaries();
        var started = new TripwireServices(services.BuildServiceProvider());
        await started._service.StartAsync(CancellationToken.None);
        return started;
    }

    /// <summary>Stops the alarm service, which raises what is still queued.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _service.StopAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Provider.DisposeAsync();
    }
}
