namespace ServerlessServe.Cli.Commands;

/// <summary>
/// The bench's callers of the gateway: a new caller (a token minted for a new subject) for every
/// <c>rowsPerCaller</c> rows sent, so that no caller of a long run goes past the volume limit of a model's extraction
/// detector (docs/defenses.md) and is blocked for sending what a benchmark sends, the same query thousands of times.
/// Many callers, each under the limit, is also what a served model's traffic looks like. Thread-safe.
/// </summary>
internal sealed class BenchCallers
{
    private readonly Func<string> _mint;
    private readonly long _requestsPerCaller;
    private readonly List<string> _tokens = [];
    private readonly Lock _gate = new();
    private long _sent;

    /// <param name="mint">Mints a token for a new caller.</param>
    /// <param name="rowsPerCaller">Rows one caller sends, at least one request's.</param>
    /// <param name="rowsPerRequest">Rows each request carries.</param>
    public BenchCallers(Func<string> mint, int rowsPerCaller, int rowsPerRequest)
    {
        ArgumentNullException.ThrowIfNull(mint);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerCaller, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowsPerRequest, 1);
        _mint = mint;
        _requestsPerCaller = Math.Max(1, rowsPerCaller / rowsPerRequest);
    }

    /// <summary>Requests given a token so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>The token of the next request: the current caller's, or a new caller's once the current one has sent its rows.</summary>
    public string Next()
    {
        var index = (int)((Interlocked.Increment(ref _sent) - 1) / _requestsPerCaller);
        lock (_gate)
        {
            while (_tokens.Count <= index)
            {
                _tokens.Add(_mint());
            }

            return _tokens[index];
        }
    }

    /// <summary>How many callers sent the requests numbered from <paramref name="from"/> (inclusive) to <paramref name="to"/> (exclusive).</summary>
    public int Between(long from, long to) =>
        to <= from ? 0 : (int)(((to - 1) / _requestsPerCaller) - (from / _requestsPerCaller) + 1);
}
