namespace ServerlessServe.Core.Security;

/// <summary>
/// A search for canary values in bytes that arrive in pieces (chunks of a stream, segments of a body): a value split
/// across pieces, however short the pieces, is found as in the bytes joined. Keeps the last
/// <see cref="CanaryTokens.LongestBytes"/> − 1 bytes seen; not thread-safe.
/// </summary>
public sealed class CanarySearch
{
    private readonly CanaryTokens _tokens;
    private readonly byte[] _carry;
    private readonly byte[] _junction;
    private int _carried;

    public CanarySearch(CanaryTokens tokens)
    {
        _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));
        var overlap = Math.Max(0, tokens.LongestBytes - 1);
        _carry = new byte[overlap];
        _junction = new byte[2 * overlap];
    }

    /// <summary>The ids of the values found so far.</summary>
    public HashSet<string> Found { get; } = new(StringComparer.Ordinal);

    /// <summary>Searches the next piece, and the join of the bytes before it with its start.</summary>
    public void Add(ReadOnlySpan<byte> piece)
    {
        if (piece.IsEmpty || _tokens.IsEmpty)
        {
            return;
        }

        var overlap = _carry.Length;
        if (_carried > 0)
        {
            // A value that ends in this piece and starts before it starts at most overlap bytes before it.
            var head = Math.Min(overlap, piece.Length);
            _carry.AsSpan(0, _carried).CopyTo(_junction);
            piece[..head].CopyTo(_junction.AsSpan(_carried));
            _tokens.FindIn(_junction.AsSpan(0, _carried + head), Found);
        }

        _tokens.FindIn(piece, Found);

        // The last overlap bytes seen, this piece's own when it is long enough.
        if (piece.Length >= overlap)
        {
            piece[^overlap..].CopyTo(_carry);
            _carried = overlap;
        }
        else
        {
            var keep = Math.Min(_carried, overlap - piece.Length);
            _carry.AsSpan(_carried - keep, keep).CopyTo(_carry);
            piece.CopyTo(_carry.AsSpan(keep));
            _carried = keep + piece.Length;
        }
    }
}
