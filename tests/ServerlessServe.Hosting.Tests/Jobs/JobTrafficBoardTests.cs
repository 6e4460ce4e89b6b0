using Azure.Data.Tables;
using Microsoft.Extensions.Logging.Abstractions;
using ServerlessServe.Core.Tests.Fixtures;
using ServerlessServe.Jobs;

namespace ServerlessServe.Hosting.Tests.Jobs;

/// <summary>
/// The traffic board on real Azurite: each gateway instance posts the jobs it sees and reads the others', so a job's
/// window is sized from the jobs of every instance.
/// </summary>
public sealed class JobTrafficBoardTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    // Long enough that a pause of this busy machine (up to about 0.8 s seen) does not make a fresh copy stale.
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task AJobSeenOnOneInstance_CountsOnAnother_UntilItEnds()
    {
        var table = TableName();
        var (first, firstBoard) = Instance(table, "hubone");
        var (second, secondBoard) = Instance(table, "hubone");
        var (otherHub, otherHubBoard) = Instance(table, "hubtwo");
        using (firstBoard)
        using (secondBoard)
        using (otherHubBoard)
        {
            await firstBoard.StartAsync(default);
            await otherHubBoard.StartAsync(default);
            first.Saw("aaaaaaaa0001", 3);
            first.Audited("aaaaaaaa0001", 0, 3);

            // The second instance sees nothing of it itself; once the first has posted, a submission there reads it.
            Assert.True(second.Around("bbbbbbbb0001").Alone);
            await Eventually(async () =>
            {
                await Task.Delay(Interval);
                await secondBoard.RefreshIfStaleAsync(default);
                return !second.Around("bbbbbbbb0001").Alone;
            });
            Assert.Equal(new JobSurroundings(false, 1, true), second.Around("bbbbbbbb0001"));

            // Another task hub's instance, which reads the board while its own job runs, reads none of it.
            otherHub.Saw("cccccccc0001");
            await Task.Delay(Interval);
            await otherHubBoard.RefreshIfStaleAsync(default);
            Assert.True(otherHub.Around("cccccccc0001").Alone);

            // Its last chunks audited on the second instance: it stops counting there at once.
            await secondBoard.RefreshIfStaleAsync(default);
            second.Saw("aaaaaaaa0001", 3);
            second.Audited("aaaaaaaa0001", 1, 3);
            second.Audited("aaaaaaaa0001", 2, 3);
            Assert.True(second.Around("bbbbbbbb0001").Alone);

            // Ended on the first: its row goes, and a later read finds nothing.
            first.Ended("aaaaaaaa0001");
            await Eventually(async () =>
            {
                await Task.Delay(Interval);
                return (await Rows(table, "hubone")).Count == 0;
            });
            second.Ended("aaaaaaaa0001");
            await Task.Delay(Interval);
            await secondBoard.RefreshIfStaleAsync(default);
            Assert.True(second.Around("bbbbbbbb0001").Alone);

            await firstBoard.StopAsync(default);
            await otherHubBoard.StopAsync(default);
            Assert.Empty(await Rows(table, "hubtwo"));
        }
    }

    [Fact]
    public async Task AnInstanceThatStops_ItsJobsNoLongerCount()
    {
        var table = TableName();
        var (first, firstBoard) = Instance(table, "hubone");
        var (second, secondBoard) = Instance(table, "hubone");
        using (firstBoard)
        using (secondBoard)
        {
            await firstBoard.StartAsync(default);
            first.Saw("aaaaaaaa0001");
            await Eventually(async () => (await Rows(table, "hubone")).Count == 1);

            // Stopped without a word (killed): its row stays, but is not posted again.
            var row = Assert.Single(await Rows(table, "hubone"));
            await firstBoard.StopAsync(default);
            await new TableServiceClient(azurite.ConnectionString).GetTableClient(table).UpsertEntityAsync(row, TableUpdateMode.Replace);

            await secondBoard.RefreshIfStaleAsync(default);
            Assert.False(second.Around("bbbbbbbb0001").Alone);
            await Task.Delay(4 * Interval);
            Assert.True(second.Around("bbbbbbbb0001").Alone);
        }
    }

    [Fact]
    public async Task StorageUnreachable_TheInstanceGoesOnWithWhatItSees()
    {
        // Nothing listens on this port: the board cannot be read, and a submission is not held past its bound.
        using var counted = new CountingHandler { InnerHandler = new HttpClientHandler() };
        var client = new TableClientOptions { Transport = new Azure.Core.Pipeline.HttpClientTransport(new HttpClient(counted)) };
        client.Retry.MaxRetries = 0;
        var tables = new TableServiceClient(new Uri("http://127.0.0.1:9/devstoreaccount1"), new TableSharedKeyCredential("devstoreaccount1", Convert.ToBase64String(new byte[64])), client);
        var options = Microsoft.Extensions.Options.Options.Create(new JobOptions { TrafficInterval = TimeSpan.FromMinutes(1) });
        var traffic = new JobTraffic(TimeProvider.System, options);
        using var board = new JobTrafficBoard(tables, traffic, TimeProvider.System, options, NullLogger<JobTrafficBoard>.Instance);
        traffic.Saw("aaaaaaaa0001");

        await board.RefreshIfStaleAsync(default);

        Assert.Equal(new JobSurroundings(false, 1, true), traffic.Around("bbbbbbbb0001"));
        Assert.True(traffic.Around("aaaaaaaa0001").Alone);

        // The submissions right after do not try again: one request for all of them until an interval has passed.
        var sent = counted.Requests;
        Assert.True(sent >= 1);
        await board.RefreshIfStaleAsync(default);
        await board.RefreshIfStaleAsync(default);
        Assert.Equal(sent, counted.Requests);
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return base.SendAsync(request, cancellationToken);
        }
    }

    [Fact]
    public void Row_ListsEveryJob_UntilItIsFull_ThenCountsTheRest()
    {
        var few = new[] { new PostedJob("aaaaaaaa0001", 2, 5), new PostedJob("bbbbbbbb0001", 0, 0) };
        var read = new Dictionary<string, PostedJob>(StringComparer.Ordinal) { ["aaaaaaaa0001"] = new("aaaaaaaa0001", 1, 5) };

        Assert.Equal(0, JobTrafficBoard.Read(JobTrafficBoard.Row("hub", "i", few, DateTimeOffset.UnixEpoch), read));
        Assert.Equal(new PostedJob("aaaaaaaa0001", 3, 5), read["aaaaaaaa0001"]);
        Assert.Equal(new PostedJob("bbbbbbbb0001", 0, 0), read["bbbbbbbb0001"]);

        // 40-character lines: about 12,000 fit in a row's 16 properties of 30,000 characters.
        var many = Enumerable.Range(0, 20_000).Select(i => new PostedJob(i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture), 0, 5)).ToList();
        var row = JobTrafficBoard.Row("hub", "i", many, DateTimeOffset.UnixEpoch);
        read.Clear();
        var unlisted = JobTrafficBoard.Read(row, read);
        Assert.InRange(read.Count, 11_000, 13_000);
        Assert.Equal(20_000, read.Count + unlisted);
        Assert.All(row.Keys.Where(k => k.StartsWith("Jobs", StringComparison.Ordinal)), k => Assert.True(((string)row[k]).Length <= 30_000));
    }

    [Fact]
    public void Read_SkipsLinesThatDoNotParse()
    {
        var row = new TableEntity("hub", "i")
        {
            ["Jobs0"] = "aaaaaaaa0001 1 3\nno numbers\nbbbbbbbb0001 -1 3\ncccccccc0001 1 2 3\n" + new string('d', 65) + " 0 1\ndddddddd0001 0 1\n",
            ["Unlisted"] = -4,
        };
        var read = new Dictionary<string, PostedJob>(StringComparer.Ordinal);

        Assert.Equal(0, JobTrafficBoard.Read(row, read));
        Assert.Equal(["aaaaaaaa0001", "dddddddd0001"], read.Keys.Order(StringComparer.Ordinal));
    }

    private static string TableName() => "traffic" + Guid.NewGuid().ToString("N");

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, "not within 15 s");
            await Task.Delay(50);
        }
    }

    private (JobTraffic Traffic, JobTrafficBoard Board) Instance(string table, string taskHub)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new JobOptions { TrafficTable = table, TrafficInterval = Interval, TaskHub = taskHub });
        var traffic = new JobTraffic(TimeProvider.System, options);
        return (traffic, new JobTrafficBoard(new TableServiceClient(azurite.ConnectionString), traffic, TimeProvider.System, options, NullLogger<JobTrafficBoard>.Instance));
    }

    private async Task<List<TableEntity>> Rows(string table, string taskHub)
    {
        var rows = new List<TableEntity>();
        await new TableServiceClient(azurite.ConnectionString).GetTableClient(table).CreateIfNotExistsAsync();
        await foreach (var row in new TableServiceClient(azurite.ConnectionString).GetTableClient(table).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {taskHub}")))
        {
            rows.Add(row);
        }

        return rows;
    }
}
