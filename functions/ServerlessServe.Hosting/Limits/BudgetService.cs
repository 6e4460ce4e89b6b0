using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Serving;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Hosting.Limits;

/// <summary>Creates the budget table at start (a failure is retried by the first charge's own calls) and gives back unspent slices on stop.</summary>
internal sealed class BudgetService(SharedBudgets budgets) : IHostedService
{
    /// <summary>How long the start waits for storage to create the table.</summary>
    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(StartWait);
        try
        {
            await budgets.CreateIfNotExistsAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (StoreFailures.IsUnreachable(ex, cancellationToken))
        {
            // Storage not reachable yet (refused, timed out, retries spent, or no managed identity token yet): a
            // charge then fails as the store does (503), and the first charge that reaches storage creates the table.
            // Before 2026-12-07 only a storage answer was caught here, so an instance started in a storage or identity
            // outage failed to start at all (found in review).
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => budgets.ReturnAllAsync(cancellationToken);
}
