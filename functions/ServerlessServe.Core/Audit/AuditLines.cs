namespace ServerlessServe.Core.Audit;

/// <summary>
/// The lines of a segment blob (records end in <c>\n</c>; a last line without one still counts), found as they are
/// read, front to back or back to front, never listed all at once: a planted segment of hundreds of millions of empty
/// lines would otherwise take gigabytes before its first line was even parsed (before 2026-12-07 the list of every
/// line came first; found in review).
/// </summary>
internal static class AuditLines
{
    /// <summary>The lines of <paramref name="content"/>, first to last.</summary>
    public static Forward Split(ReadOnlySpan<byte> content) => new(content);

    /// <summary>The lines of <paramref name="content"/>, last to first.</summary>
    public static Backward Reverse(ReadOnlySpan<byte> content) => new(content);

    /// <summary>How many lines <paramref name="content"/> holds.</summary>
    public static int Count(ReadOnlySpan<byte> content)
    {
        var count = 0;
        foreach (var _ in Split(content))
        {
            count++;
        }

        return count;
    }

    /// <summary>Enumerates lines first to last (a <c>foreach</c> over <see cref="Split"/>).</summary>
    public ref struct Forward
    {
        private readonly ReadOnlySpan<byte> _content;
        private int _next;

        internal Forward(ReadOnlySpan<byte> content) => _content = content;

        public (int Start, int Length) Current { get; private set; }

        public readonly Forward GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_next >= _content.Length)
            {
                return false;
            }

            var end = _content[_next..].IndexOf((byte)'\n');
            var length = end < 0 ? _content.Length - _next : end;
            Current = (_next, length);
            _next += length + 1;
            return true;
        }
    }

    /// <summary>Enumerates lines last to first (a <c>foreach</c> over <see cref="Reverse"/>).</summary>
    public ref struct Backward
    {
        private readonly ReadOnlySpan<byte> _content;

        // The end (exclusive) of the next line to return; -1 once the first line has been returned.
        private int _end;

        internal Backward(ReadOnlySpan<byte> content)
        {
            _content = content;
            _end = content.Length == 0 ? -1 : content[^1] == (byte)'\n' ? content.Length - 1 : content.Length;
        }

        public (int Start, int Length) Current { get; private set; }

        public readonly Backward GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_end < 0)
            {
                return false;
            }

            var start = _content[.._end].LastIndexOf((byte)'\n') + 1;
            Current = (start, _end - start);
            _end = start == 0 ? -1 : start - 1;
            return true;
        }
    }
}
