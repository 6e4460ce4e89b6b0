using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Security;

/// <summary>
/// The canary values a deployment plants (in a sample record, a document, a credential no one uses) and the search for
/// them in text and in UTF-8 bytes. A value is a secret: it is never logged or recorded, only named by its id
/// (<see cref="IdOf"/>). Values are 16 to 256 RFC 3986 unreserved characters (letters, digits, <c>-</c>, <c>.</c>,
/// <c>_</c>, <c>~</c>), which no URI, JSON writer or log formatter escapes, so a value is found byte for byte wherever it
/// goes. Thread-safe and immutable.
/// </summary>
public sealed class CanaryTokens
{
    /// <summary>Shortest value accepted: long enough never to occur by chance.</summary>
    public const int MinLength = 16;

    /// <summary>Longest value accepted.</summary>
    public const int MaxLength = 256;

    // Declared before None, whose initializer runs the constructor.
    private static readonly SearchValues<char> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    private readonly string[] _values;
    private readonly byte[][] _utf8;
    private readonly string[] _ids;
    private readonly SearchValues<string> _search;

    /// <summary>The values to look for; duplicates are dropped. Throws when one is not a valid value (<see cref="IsValid"/>).</summary>
    public CanaryTokens(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        _values = values.Distinct(StringComparer.Ordinal).ToArray();
        for (var i = 0; i < _values.Length; i++)
        {
            if (!IsValid(_values[i]))
            {
                // Never the value itself: it is a secret.
                throw new ArgumentException($"Canary value {i} is not {MinLength}-{MaxLength} unreserved URI characters.", nameof(values));
            }
        }

        _utf8 = _values.Select(Encoding.ASCII.GetBytes).ToArray();
        _ids = _values.Select(IdOf).ToArray();
        _search = SearchValues.Create(_values, StringComparison.Ordinal);
    }

    /// <summary>No values: nothing is ever found.</summary>
    public static CanaryTokens None { get; } = new([]);

    public bool IsEmpty => _values.Length == 0;

    public int Count => _values.Length;

    /// <summary>The ids of the values, in the order given.</summary>
    public IReadOnlyList<string> Ids => _ids;

    /// <summary>The longest value's length in bytes (a streamed search keeps this many bytes less one between chunks).</summary>
    public int LongestBytes => _utf8.Length == 0 ? 0 : _utf8.Max(v => v.Length);

    /// <summary>True for 16 to 256 characters, each a letter, a digit, <c>-</c>, <c>.</c>, <c>_</c> or <c>~</c>.</summary>
    public static bool IsValid(string? value) =>
        value is { Length: >= MinLength and <= MaxLength } && value.AsSpan().IndexOfAnyExcept(Unreserved) < 0;

    /// <summary>A value's name in evidence, logs and docs: the first 12 lower-case hex characters of its SHA-256 (UTF-8).</summary>
    public static string IdOf(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..12];
    }

    /// <summary>True when <paramref name="text"/> holds any of the values (one vectorised pass).</summary>
    public bool AnyIn(ReadOnlySpan<char> text) => _values.Length != 0 && text.IndexOfAny(_search) >= 0;

    /// <summary>True when <paramref name="utf8"/> holds any of the values.</summary>
    public bool AnyIn(ReadOnlySpan<byte> utf8)
    {
        foreach (var value in _utf8)
        {
            if (utf8.IndexOf(value) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Adds to <paramref name="ids"/> the id of each value <paramref name="text"/> holds.</summary>
    public void FindIn(ReadOnlySpan<char> text, ISet<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (!AnyIn(text))
        {
            return;
        }

        for (var i = 0; i < _values.Length; i++)
        {
            if (text.Contains(_values[i], StringComparison.Ordinal))
            {
                ids.Add(_ids[i]);
            }
        }
    }

    /// <summary>Adds to <paramref name="ids"/> the id of each value <paramref name="utf8"/> holds.</summary>
    public void FindIn(ReadOnlySpan<byte> utf8, ISet<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        for (var i = 0; i < _utf8.Length; i++)
        {
            if (utf8.IndexOf(_utf8[i]) >= 0)
            {
                ids.Add(_ids[i]);
            }
        }
    }

    /// <summary>The ids in <paramref name="ids"/> as one evidence value: sorted, comma-separated.</summary>
    public static string Join(IEnumerable<string> ids) => string.Join(',', ids.Order(StringComparer.Ordinal));

    public override string ToString() => $"{nameof(CanaryTokens)} ({_values.Length})";
}
