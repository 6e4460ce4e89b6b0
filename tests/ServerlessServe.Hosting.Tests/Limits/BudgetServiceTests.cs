using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Testing;
using ServerlessServe.Core.Serving.Limits;
using ServerlessServe.Hosting.Limits;

namespace ServerlessServe.Hosting.Tests.Limits;

/// <summary>The budget table's hosted service with storage not reachable: the host starts and stops anyway.</summary>
public sealed class BudgetServiceTests
{
    /// <summary>
    /// Storage refuses connections and the client retries (as in Azure): what it throws once its retries are spent is
    /// not a storage answer. Before 2026-12-07 only a storage answer was caught, so an instance started in a storage or
    /// identity outage failed to start (found in review).
    /// </summary>
    [Fact]
    public async Task StorageUnreachable_StartAndStopComplete()
    {
        var options = new TableClientOptions();
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var table = new TableServiceClient(new Uri($"http://127.0.0.1:{port}/devstoreaccount1"), new TableSharedKeyCredential("devstoreaccount1", Convert.ToBase64String(new byte[64])), options).GetTableClient("budgets");
        var service = new BudgetService(new SharedBudgets(table, TimeProvider.System, new FakeLogger<SharedBudgets>()));

        await service.StartAsync(CancellationToken.None);
        await service.StopAsync(CancellationToken.None);
    }
}
