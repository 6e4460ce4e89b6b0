namespace ServerlessServe.Hosting.Signatures;

/// <summary>A periodic timer's next tick, false once the host stops.</summary>
internal static class Ticks
{
    public static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
