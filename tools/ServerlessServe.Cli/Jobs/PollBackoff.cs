namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// How long to wait before asking again: 100 ms, doubling to 1 s, so a short job is seen finished at once and a long
/// one costs the gateway one request a second. After a failure at least 1 s. A <c>Retry-After</c> from the gateway
/// is honoured up to <see cref="MaxHonoured"/>.
/// </summary>
internal sealed class PollBackoff
{
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan AfterFailure = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxHonoured = TimeSpan.FromSeconds(60);

    private TimeSpan _next = Initial;

    /// <summary>The next wait; <paramref name="serverAsked"/> is the gateway's <c>Retry-After</c>, if any.</summary>
    public TimeSpan Next(TimeSpan? serverAsked = null, bool failed = false)
    {
        var delay = _next;
        _next = _next * 2 < Max ? _next * 2 : Max;
        if (failed && delay < AfterFailure)
        {
            delay = AfterFailure;
        }

        if (serverAsked is { } asked && asked > delay)
        {
            delay = asked < MaxHonoured ? asked : MaxHonoured;
        }

        return delay;
    }
}
