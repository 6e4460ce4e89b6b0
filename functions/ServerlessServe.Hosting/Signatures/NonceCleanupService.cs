using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Signatures;

namespace ServerlessServe.Hosting.Signatures;

/// <summary>
/// Deletes expired nonces from the replay store every <see cref="SignatureOptions.NonceCleanupInterval"/> (Azure Tables
/// have no TTL). Every instance runs it; two instances deleting the same entity is harmless. An expired nonce not yet
/// deleted never blocks a request (<see cref="NonceStore.TryRecordAsync"/> replaces it), so this only bounds the table.
/// </summary>
internal sealed class NonceCleanupService(NonceCleanup cleanup, IOptions<SignatureOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.NonceCleanupInterval, time);
        while (await Ticks.WaitAsync(timer, stoppingToken).ConfigureAwait(false))
        {
            await cleanup.RunOnceAsync(stoppingToken).ConfigureAwait(false);
        }
    }
}
