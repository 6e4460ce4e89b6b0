namespace ServerlessServe.Cli.Jobs;

/// <summary>The job states the gateway reports (docs/protocol.md, "Jobs").</summary>
internal static class JobStatusNames
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Cancelled while running: its items in flight are being finished and audited; it ends <see cref="Cancelled"/>.</summary>
    public const string Cancelling = "cancelling";

    /// <summary>Whether a job in <paramref name="status"/> will change no more (anything the CLI does not know counts as not finished).</summary>
    public static bool IsFinal(string status) => status is Completed or Failed or Cancelled;
}
