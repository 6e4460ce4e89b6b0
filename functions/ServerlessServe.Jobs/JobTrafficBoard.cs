using System.Globalization;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Jobs;

/// <summary>
/// The traffic board: a table (<see cref="JobOptions.TrafficTable"/>, in the app's storage) where every gateway instance
/// that has jobs running posts them, one row per instance in a partition per task hub, every
/// <see cref="JobOptions.TrafficInterval"/>, and reads the other instances' rows (<see cref="JobTraffic.SeenElsewhere"/>).
/// The orchestrations' steps land on whichever instance takes them from the task hub's queues, so without it each
/// instance would size windows from the jobs it happens to see. A row not posted for three intervals is ignored (its
/// instance stopped or cannot reach storage) and, after <see cref="JobOptions.AloneAfter"/> more, deleted by whoever
/// reads it. The board only sizes windows: when storage fails, each instance goes on with what it sees itself
/// (logged once per failure streak) and nothing else changes.
/// </summary>
public sealed class JobTrafficBoard(
    TableServiceClient tables,
    JobTraffic traffic,
    TimeProvider time,
    IOptions<JobOptions> options,
    ILogger<JobTrafficBoard> logger) : BackgroundService
{
    // A string property holds up to 64 KiB of UTF-16; a row up to 1 MiB and 252 properties. A job's line is about 40
    // characters, so a row lists about 12,000 jobs; past that, it gives only how many more there are.
    private const int PropertyChars = 30_000;
    private const int MaxProperties = 16;
    private const int MaxIdLength = 64;

    private readonly SemaphoreSlim _reading = new(1, 1);
    private readonly CreateOnce _created = new(() => tables.GetTableClient(options.Value.TrafficTable).CreateIfNotExistsAsync(CancellationToken.None));
    private bool _posted;
    private volatile bool _failing;
    private long _tried;

    /// <summary>This instance's row key: random per process, so a restarted instance never reads its old row as its own.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N");

    private bool Enabled => options.Value.TrafficTable.Length > 0;

    private TableClient Table => tables.GetTableClient(options.Value.TrafficTable);

    /// <summary>
    /// Reads the board now if this instance's copy is older than <see cref="JobOptions.TrafficInterval"/>: a submission
    /// sizing its job's first window. Bounded to 2 s; when the board cannot be read the job is sized from this
    /// instance's own view, and the submissions of the next interval do not try again (while storage hangs, one waits,
    /// not each).
    /// </summary>
    public async Task RefreshIfStaleAsync(CancellationToken cancellationToken)
    {
        if (!Enabled || !Stale())
        {
            return;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await _reading.WaitAsync(bounded.Token).ConfigureAwait(false);
            try
            {
                if (Stale())
                {
                    Volatile.Write(ref _tried, time.GetTimestamp());
                    await ReadAsync(bounded.Token).ConfigureAwait(false);
                }
            }
            finally
            {
                _reading.Release();
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Failed(new TimeoutException("the traffic board was not read within 2 s"));
        }
#pragma warning disable CA1031 // The board only sizes windows: a submission goes on with this instance's own view.
        catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
        {
            Failed(ex);
        }
    }

    // The copy is older than an interval, and no submission tried to read the board within one.
    private bool Stale()
    {
        var interval = options.Value.TrafficInterval;
        var tried = Volatile.Read(ref _tried);
        return traffic.ElsewhereAge >= interval && (tried == 0 || time.GetElapsedTime(tried) >= interval);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            Log.TrafficBoardOff(logger);
            return;
        }

        using var timer = new PeriodicTimer(options.Value.TrafficInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                var posted = traffic.Posted();
                if (posted.Count > 0 || _posted)
                {
                    await PostAsync(posted, stoppingToken).ConfigureAwait(false);
                }

                if (posted.Count > 0)
                {
                    await _reading.WaitAsync(stoppingToken).ConfigureAwait(false);
                    try
                    {
                        await ReadAsync(stoppingToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        _reading.Release();
                    }
                }

            }
#pragma warning disable CA1031 // A failed post or read is tried again at the next tick; the instance goes on with its own view.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                Failed(ex);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_posted)
        {
            // Best effort: a row left behind stops counting after three intervals anyway.
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await Table.DeleteEntityAsync(options.Value.TaskHub, Instance, ETag.All, bounded.Token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Stopping goes on whatever storage answers.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    public override void Dispose()
    {
        _reading.Dispose();
        base.Dispose();
    }

    /// <summary>This instance's row: its jobs, one line each (<c>id audited chunks</c>), over as many properties as they need.</summary>
    internal static TableEntity Row(string taskHub, string instance, IReadOnlyList<PostedJob> jobs, DateTimeOffset at)
    {
        var row = new TableEntity(taskHub, instance) { ["At"] = at };
        var (property, listed) = (0, 0);
        var text = new StringBuilder();
        foreach (var job in jobs)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"{job.Id} {job.Audited} {job.Chunks}\n");
            if (text.Length + line.Length > PropertyChars)
            {
                row["Jobs" + property.ToString(CultureInfo.InvariantCulture)] = text.ToString();
                text.Clear();
                if (++property == MaxProperties)
                {
                    break;
                }
            }

            text.Append(line);
            listed++;
        }

        if (text.Length > 0 && property < MaxProperties)
        {
            row["Jobs" + property.ToString(CultureInfo.InvariantCulture)] = text.ToString();
        }

        row["Unlisted"] = jobs.Count - listed;
        return row;
    }

    /// <summary>Adds the jobs of another instance's row to <paramref name="jobs"/> (chunks audited summed); returns its unlisted count. Lines that do not parse are skipped.</summary>
    internal static int Read(TableEntity row, Dictionary<string, PostedJob> jobs)
    {
        for (var property = 0; property < MaxProperties; property++)
        {
            if (row.GetString("Jobs" + property.ToString(CultureInfo.InvariantCulture)) is not { } text)
            {
                break;
            }

            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = line.Split(' ');
                if (parts.Length != 3 || parts[0].Length is 0 or > MaxIdLength
                    || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var audited)
                    || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var chunks))
                {
                    continue;
                }

                var seen = jobs.GetValueOrDefault(parts[0]);
                jobs[parts[0]] = new PostedJob(parts[0], seen.Audited + audited, Math.Max(seen.Chunks, chunks));
            }
        }

        return Math.Max(0, row.GetInt32("Unlisted") ?? 0);
    }

    private async Task<TableClient> TableAsync(CancellationToken cancellationToken)
    {
        await _created.EnsureAsync(cancellationToken).ConfigureAwait(false);
        return Table;
    }

    private async Task PostAsync(IReadOnlyList<PostedJob> jobs, CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        if (jobs.Count == 0)
        {
            try
            {
                await table.DeleteEntityAsync(options.Value.TaskHub, Instance, ETag.All, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // Already gone: removed by a reader while this instance could not post.
            }

            _posted = false;
            return;
        }

        await table.UpsertEntityAsync(Row(options.Value.TaskHub, Instance, jobs, time.GetUtcNow()), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        _posted = true;
        Succeeded();
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        var table = await TableAsync(cancellationToken).ConfigureAwait(false);
        var settings = options.Value;
        var now = time.GetUtcNow();
        var jobs = new Dictionary<string, PostedJob>(StringComparer.Ordinal);
        var unlisted = 0;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {settings.TaskHub}");
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (string.Equals(row.RowKey, Instance, StringComparison.Ordinal))
            {
                continue;
            }

            var age = now - (row.GetDateTimeOffset("At") ?? DateTimeOffset.MinValue);
            if (age < 3 * settings.TrafficInterval)
            {
                unlisted += Read(row, jobs);
            }
            else if (age > 3 * settings.TrafficInterval + settings.AloneAfter)
            {
                // Left by an instance that stopped without deleting it; only if nobody posted it again meanwhile.
                try
                {
                    await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken).ConfigureAwait(false);
                }
                catch (RequestFailedException)
                {
                }
            }
        }

        traffic.SeenElsewhere(jobs, unlisted);
        Succeeded();
    }

    private void Succeeded()
    {
        if (_failing)
        {
            _failing = false;
            Log.TrafficBoardBack(logger);
        }
    }

    private void Failed(Exception ex)
    {
        if (!_failing)
        {
            _failing = true;
            Log.TrafficBoardFailed(logger, ex);
        }
    }
}
