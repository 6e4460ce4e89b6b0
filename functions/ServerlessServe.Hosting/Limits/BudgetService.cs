using Microsoft.Extensions.Hosting;
using ServerlessServe.Core.Serving.Limits;

namespace ServerlessServe.Hosting.Limits;

/// <summary>Creates the budget table at start (a failure is retried by the first charge's own calls) and gives back unspent slices on stop.</summary>
internal sealed class BudgetService(SharedBudgets budgets) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await budgets.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Azure.RequestFailedException)
        {
            // Storage not reachable yet: a charge then fails as the store does (503), and the table is created on the next start.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => budgets.ReturnAllAsync(cancellationToken);
}
