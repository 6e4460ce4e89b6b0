using System.Threading.Channels;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Security;

namespace ServerlessServe.Hosting.Tripwires;

/// <summary>
/// Where detectors that cannot wait (a logger, a span listener, an HTTP handler) leave their canary hits for
/// <see cref="CanaryAlarmService"/> to raise: each hit keeps the request it happened in (<see cref="RequestContext.Current"/>)
/// and its time. Bounded: a flood of hits beyond <see cref="Capacity"/> waiting is counted and dropped, never blocks the
/// code that logged. Depends on nothing that logs, so the logger provider can hold it.
/// </summary>
internal sealed class CanaryAlarmQueue(TimeProvider time)
{
    /// <summary>Most hits waiting to be raised.</summary>
    public const int Capacity = 1024;

    private readonly Channel<Detection> _channel = Channel.CreateBounded<Detection>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private CanaryTokens? _tokens;
    private long _dropped;

    /// <summary>The canary values to look for once the host has started with valid options; null before, or with none configured.</summary>
    public CanaryTokens? Tokens => Volatile.Read(ref _tokens);

    public ChannelReader<Detection> Reader => _channel.Reader;

    /// <summary>Starts the search for <paramref name="tokens"/> (called once the options are validated).</summary>
    public void Attach(CanaryTokens tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        Volatile.Write(ref _tokens, tokens.IsEmpty ? null : tokens);
    }

    /// <summary>Stops the search (the host is stopping).</summary>
    public void Detach() => Volatile.Write(ref _tokens, null);

    /// <summary>Queues a hit of <paramref name="kind"/> in the current request (if any); false when the queue is full (counted).</summary>
    public bool Enqueue(string kind, IReadOnlyDictionary<string, string> evidence)
    {
        if (_channel.Writer.TryWrite(new Detection(kind, RequestContext.Current, evidence, time.GetUtcNow())))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    /// <summary>Hits dropped since the last call.</summary>
    public long TakeDropped() => Interlocked.Exchange(ref _dropped, 0);

    /// <summary>One hit: its kind, the request it happened in, its evidence (canary ids, never values) and when.</summary>
    internal sealed record Detection(string Kind, RequestContext? Request, IReadOnlyDictionary<string, string> Evidence, DateTimeOffset Time);
}
