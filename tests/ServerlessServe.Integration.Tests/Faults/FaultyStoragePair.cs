using ServerlessServe.Integration.Tests.Fixtures;
using ServerlessServe.Local;

namespace ServerlessServe.Integration.Tests.Faults;

/// <summary>
/// A gateway (with its own inference app) whose storage — models, audit log, tables — is reached through
/// <see cref="FaultProxy"/>s in front of the stack's Azurite, so a test can pause, cut or slow its store without touching
/// the rest of the stack (its job task hub, on the host's runtime storage as in Azure, is reached directly). Its audit
/// writer id is stable, so a restarted gateway continues its chain. The proxies live for the whole run; the pair is the
/// fixture's (<see cref="StackFixture.ExtraPairAsync"/>).
/// </summary>
public sealed class FaultyStoragePair
{
    /// <summary>This pair's audit writer id.</summary>
    public const string WriterId = "faults-gw";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static (FaultProxy Blob, FaultProxy Table)? _proxies;

    private FaultyStoragePair(AppPair apps, FaultProxy blob, FaultProxy table)
    {
        Apps = apps;
        Blob = blob;
        Table = table;
    }

    public AppPair Apps { get; }

    /// <summary>In front of Azurite's blob endpoint (models, audit log).</summary>
    public FaultProxy Blob { get; }

    /// <summary>In front of Azurite's table endpoint (containment, budgets, extraction states).</summary>
    public FaultProxy Table { get; }

    /// <summary>Pauses (or resumes) both proxies: the store stops answering, connections stay open.</summary>
    public void Pause(bool paused)
    {
        foreach (var proxy in new[] { Blob, Table })
        {
            if (paused)
            {
                proxy.Pause();
            }
            else
            {
                proxy.Resume();
            }
        }
    }

    /// <summary>Sets the delay both proxies add to every forwarded chunk.</summary>
    public void Slow(TimeSpan delay) => (Blob.Delay, Table.Delay) = (delay, delay);

    public static async Task<FaultyStoragePair> GetAsync(StackFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        await Gate.WaitAsync();
        try
        {
            var azurite = fixture.Stack.Azurite;
            if (_proxies is null)
            {
                var blob = new FaultProxy(azurite.BlobPort);
                var table = new FaultProxy(azurite.TablePort);
                blob.Start();
                table.Start();
                fixture.OnDispose(blob);
                fixture.OnDispose(table);
                _proxies = (blob, table);
            }

            // The pair itself is the fixture's: started on first use, and again if another extra pair stopped it since.
            var connection = $"DefaultEndpointsProtocol=http;AccountName={Azurite.AccountName};AccountKey={Azurite.AccountKey};"
                + $"BlobEndpoint=http://127.0.0.1:{_proxies.Value.Blob.Port}/{Azurite.AccountName};"
                + $"QueueEndpoint=http://127.0.0.1:{azurite.QueuePort}/{Azurite.AccountName};"
                + $"TableEndpoint=http://127.0.0.1:{_proxies.Value.Table.Port}/{Azurite.AccountName};";
            var apps = await fixture.ExtraPairAsync("faults", fixture.Host, new Dictionary<string, string>
            {
                ["ServerlessServe:Storage:ConnectionString"] = connection,

                // The job task hub stays on the runtime store, as in Azure (another account): only the data store faults.
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["ServerlessServe:Audit:WriterId"] = WriterId,
                ["ServerlessServe:Audit:BreakDuration"] = "00:00:01",

                // A budget for a deployment whose models load fast (the default, 30 s, leaves room for cold loads).
                ["ServerlessServe:Deadlines:Request"] = "00:00:05",
            });
            return new FaultyStoragePair(apps, _proxies.Value.Blob, _proxies.Value.Table);
        }
        finally
        {
            Gate.Release();
        }
    }
}
