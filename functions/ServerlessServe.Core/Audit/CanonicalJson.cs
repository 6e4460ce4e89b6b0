using System.Globalization;
using System.Text;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Writes the canonical JSON used for audit hashes and checkpoint signatures: properties in a fixed order, no
/// whitespace, and every string escaped the same way so the bytes are pure ASCII and reproducible by any implementation.
/// </summary>
/// <remarks>
/// String escaping: <c>"</c> → <c>\"</c>, <c>\</c> → <c>\\</c>; every other UTF-16 code unit outside U+0020..U+007E →
/// <c>\u</c> + four lowercase hex digits; everything else literally. Integers are plain decimal; <c>null</c> is written
/// as <c>null</c>.
/// </remarks>
internal sealed class CanonicalJson
{
    private readonly StringBuilder _builder = new(512);
    private bool _needsComma;

    public CanonicalJson BeginObject()
    {
        Separate();
        _builder.Append('{');
        _needsComma = false;
        return this;
    }

    public CanonicalJson EndObject()
    {
        _builder.Append('}');
        _needsComma = true;
        return this;
    }

    public CanonicalJson Name(string name)
    {
        Separate();
        AppendString(name);
        _builder.Append(':');
        _needsComma = false;
        return this;
    }

    public CanonicalJson String(string name, string? value)
    {
        Name(name);
        if (value is null)
        {
            _builder.Append("null");
        }
        else
        {
            AppendString(value);
        }

        _needsComma = true;
        return this;
    }

    public CanonicalJson IntegerOrNull(string name, long? value) =>
        value is { } v ? Integer(name, v) : String(name, null);

    public CanonicalJson Integer(string name, long value)
    {
        Name(name);
        _builder.Append(value.ToString(CultureInfo.InvariantCulture));
        _needsComma = true;
        return this;
    }

    public CanonicalJson Boolean(string name, bool value)
    {
        Name(name);
        _builder.Append(value ? "true" : "false");
        _needsComma = true;
        return this;
    }

    /// <summary>A number with exactly <paramref name="decimals"/> fraction digits, or <c>null</c>.</summary>
    public CanonicalJson FixedOrNull(string name, double? value, int decimals)
    {
        if (value is { } number)
        {
            return Fixed(name, number, decimals);
        }

        Name(name);
        _builder.Append("null");
        _needsComma = true;
        return this;
    }

    /// <summary>A number written with exactly <paramref name="decimals"/> fraction digits (e.g. <c>12.500</c>).</summary>
    public CanonicalJson Fixed(string name, double value, int decimals)
    {
        Name(name);
        _builder.Append(value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
        _needsComma = true;
        return this;
    }

    /// <summary>An object of string values with keys in ordinal order.</summary>
    public CanonicalJson StringMap(string name, IReadOnlyDictionary<string, string> map)
    {
        Name(name).BeginObject();
        foreach (var key in SortedKeys(map.Keys))
        {
            String(key, map[key]);
        }

        return EndObject();
    }

    /// <summary>An object of integer values with keys in ordinal order.</summary>
    public CanonicalJson IntegerMap(string name, IReadOnlyDictionary<string, int> map)
    {
        Name(name).BeginObject();
        foreach (var key in SortedKeys(map.Keys))
        {
            Integer(key, map[key]);
        }

        return EndObject();
    }

    public override string ToString() => _builder.ToString();

    /// <summary>The canonical text as bytes (ASCII, hence also UTF-8).</summary>
    public byte[] ToBytes() => Encoding.ASCII.GetBytes(_builder.ToString());

    private static string[] SortedKeys(IEnumerable<string> keys)
    {
        var sorted = keys.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return sorted;
    }

    private void Separate()
    {
        if (_needsComma)
        {
            _builder.Append(',');
        }
    }

    private void AppendString(string value)
    {
        _builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    _builder.Append("\\\"");
                    break;
                case '\\':
                    _builder.Append("\\\\");
                    break;
                case >= ' ' and <= '~':
                    _builder.Append(c);
                    break;
                default:
                    _builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
            }
        }

        _builder.Append('"');
    }
}
