using System.ComponentModel.DataAnnotations;

namespace ServerlessServe.Core.Security;

/// <summary>The containment table and how often each instance reads it (<c>ServerlessServe:Containment</c>).</summary>
public sealed class ContainmentOptions
{
    public const string SectionName = "ServerlessServe:Containment";

    /// <summary>The table of throttles, blocks and quarantines in the storage account. Default <c>containment</c>.</summary>
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    public string Table { get; set; } = "containment";

    /// <summary>
    /// How often each instance reads the table: the longest a block, throttle, quarantine or lift set elsewhere takes
    /// to reach this instance. Default 2 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a request waits for the first read of the table after start; past it the request is refused
    /// (unavailable): containment is not skipped. Default 10 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan FirstReadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// While reads of the table fail, the last good snapshot stays in force this long after the last good read; then
    /// requests (and the admin plane) are refused 503 until a read succeeds, so a block, revocation or quarantine set
    /// elsewhere cannot be held off an instance kept from the table. Default 5 minutes, as for the signed lifecycle
    /// documents.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MaxStaleness { get; set; } = TimeSpan.FromMinutes(5);
}
