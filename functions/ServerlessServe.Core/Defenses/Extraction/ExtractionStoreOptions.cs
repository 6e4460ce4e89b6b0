using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Defenses.Extraction;

/// <summary>
/// Options of <see cref="ExtractionStateStore"/>, bound from <c>ServerlessServe:Extraction:Store</c>: where the
/// callers' states persist, how often, and how much of them one instance keeps in memory.
/// </summary>
public sealed class ExtractionStoreOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "ServerlessServe:Extraction:Store";

    /// <summary>
    /// The Azure Table holding one entity per caller, model and input width (PartitionKey the model name, RowKey
    /// <c>{pseudonym}~{width}</c>), created at start when missing. Default <c>extraction</c>.
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    public string TableName { get; set; } = "extraction";

    /// <summary>
    /// How often the states changed since their last write are written (in one pass, in the background). Default 5
    /// seconds: what a crash can lose is at most about this much of each caller's queries (more while storage is
    /// unreachable), and what another instance sees of them lags by as much.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Most callers' states held in memory; beyond it the least recently used are written (when changed) and dropped,
    /// and read back from the table when their caller returns. Default 1,000: a state takes about 100 KB at 64
    /// features (its growing sets are allocated whole), 400 KB at 256 features or more, so the default holds 100 to
    /// 400 MB at most. States evicted while storage is unreachable wait to be written, up to a quarter of this many
    /// more; beyond that the oldest are dropped unwritten (logged).
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxStates { get; set; } = 1000;

    /// <summary>
    /// Most observations (reduced query, class, time) one state keeps until they are written: they are what this
    /// instance replays into the stored state when another instance wrote it meanwhile. Default 512 (about 130 KB at 64
    /// features): a caller sending more rows than this between two writes loses its oldest ones from a merge (logged),
    /// and from this instance's state too, which adopts the merged one.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxPendingObservations { get; set; } = 512;

    /// <summary>States written at once during a flush. Default 8.</summary>
    [Range(1, 64)]
    public int FlushConcurrency { get; set; } = 8;

    /// <summary>
    /// Tries to write one state in one flush when other instances keep writing it first (each conflict is merged, then
    /// written again); a state still in conflict waits for the next flush. Default 4.
    /// </summary>
    [Range(1, 32)]
    public int MaxWriteAttempts { get; set; } = 4;
}
