using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Jobs;

/// <summary>Limits and settings of the jobs API (<c>ServerlessServe:Jobs</c>).</summary>
public sealed class JobOptions
{
    public const string SectionName = "ServerlessServe:Jobs";

    /// <summary>Most items in one job. Default 1,000; more: 413.</summary>
    [Range(1, 100_000)]
    public int MaxItems { get; set; } = 1000;

    /// <summary>
    /// The longest the standalone backend waits between polls of an idle queue (it backs off up to this). Default 1 s:
    /// a job step waits at most about this long after idle; shorter costs more storage transactions while idle.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The task hub's name (queues, tables and blobs of the durable backend share this prefix). Default
    /// <c>serverlessservejobs</c>.
    /// </summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$")]
    public string TaskHub { get; set; } = "serverlessservejobs";
}
