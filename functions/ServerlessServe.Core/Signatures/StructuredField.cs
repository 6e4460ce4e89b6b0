using System.Text;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// A strict reader and writer of the part of RFC 8941 (Structured Field Values) that signature and digest headers use:
/// dictionaries whose members are bare items or inner lists, with parameters; bare items of type string, integer, byte
/// sequence, token and boolean (decimals are refused). Every parse fails on the first byte outside the grammar, so a
/// header is either read exactly or refused.
/// </summary>
internal static class StructuredField
{
    /// <summary>Most members a dictionary may hold here.</summary>
    public const int MaxMembers = 8;

    /// <summary>Most items in an inner list, and parameters on one member or item.</summary>
    public const int MaxItems = 16;

    /// <summary>Parses <paramref name="text"/> as a dictionary; null when it is not one (or exceeds the bounds).</summary>
    public static IReadOnlyList<SfMember>? ParseDictionary(string text)
    {
        var reader = new Reader(text);
        var members = new List<SfMember>();
        reader.SkipSpaces();
        if (reader.AtEnd)
        {
            return null;
        }

        while (true)
        {
            if (reader.Key() is not { } key || members.Exists(m => m.Key == key) || members.Count == MaxMembers)
            {
                return null;
            }

            SfMember? member;
            if (reader.Peek == '=')
            {
                reader.Advance();
                member = reader.Peek == '(' ? reader.InnerList(key) : reader.ItemMember(key);
            }
            else
            {
                member = reader.Parameters() is { } parameters ? new SfMember(key, new SfItem(true, []), null, parameters) : null;
            }

            if (member is null)
            {
                return null;
            }

            members.Add(member);
            reader.SkipOws();
            if (reader.AtEnd)
            {
                return members;
            }

            if (reader.Peek != ',')
            {
                return null;
            }

            reader.Advance();
            reader.SkipOws();
            if (reader.AtEnd)
            {
                return null; // a trailing comma
            }
        }
    }

    /// <summary>Serialises an sf-string (quotes, with <c>\</c> escaping <c>"</c> and <c>\</c>).</summary>
    public static string String(string value)
    {
        var builder = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                throw new ArgumentException("An sf-string holds printable ASCII only.", nameof(value));
            }

            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.Append('"').ToString();
    }

    /// <summary>Serialises a bare item of a type this reader reads.</summary>
    public static string BareItem(object value) => value switch
    {
        string s => String(s),
        long l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        byte[] b => ":" + Convert.ToBase64String(b) + ":",
        SfToken t => t.Value,
        bool flag => flag ? "?1" : "?0",
        _ => throw new ArgumentException("Not a bare item.", nameof(value)),
    };

    /// <summary>Serialises parameters (<c>;key=value</c>, a true boolean as the bare key).</summary>
    public static string Parameters(IEnumerable<KeyValuePair<string, object>> parameters)
    {
        var builder = new StringBuilder();
        foreach (var (key, value) in parameters)
        {
            builder.Append(';').Append(key);
            if (value is not true)
            {
                builder.Append('=').Append(BareItem(value));
            }
        }

        return builder.ToString();
    }

    private ref struct Reader(string text)
    {
        private readonly string _text = text;
        private int _at;

        public readonly bool AtEnd => _at >= _text.Length;

        public readonly char Peek => AtEnd ? '\0' : _text[_at];

        public void Advance() => _at++;

        public void SkipSpaces()
        {
            while (!AtEnd && _text[_at] == ' ')
            {
                _at++;
            }
        }

        public void SkipOws()
        {
            while (!AtEnd && _text[_at] is ' ' or '\t')
            {
                _at++;
            }
        }

        public string? Key()
        {
            var start = _at;
            if (AtEnd || !(char.IsAsciiLetterLower(Peek) || Peek == '*'))
            {
                return null;
            }

            while (!AtEnd && (char.IsAsciiLetterLower(Peek) || char.IsAsciiDigit(Peek) || Peek is '_' or '-' or '.' or '*'))
            {
                _at++;
            }

            return _at - start > 64 ? null : _text[start.._at];
        }

        public SfMember? ItemMember(string key) =>
            BareItem() is { } value && Parameters() is { } parameters ? new SfMember(key, new SfItem(value, parameters), null, []) : null;

        public SfMember? InnerList(string key)
        {
            Advance(); // (
            var items = new List<SfItem>();
            while (true)
            {
                SkipSpaces();
                if (Peek == ')')
                {
                    Advance();
                    return Parameters() is { } parameters ? new SfMember(key, null, items, parameters) : null;
                }

                if (items.Count == MaxItems || BareItem() is not { } value || Parameters() is not { } itemParameters)
                {
                    return null;
                }

                items.Add(new SfItem(value, itemParameters));
                if (Peek is not (' ' or ')'))
                {
                    return null;
                }
            }
        }

        public List<KeyValuePair<string, object>>? Parameters()
        {
            var parameters = new List<KeyValuePair<string, object>>();
            while (Peek == ';')
            {
                Advance();
                SkipSpaces();
                if (Key() is not { } key || parameters.Exists(p => p.Key == key) || parameters.Count == MaxItems)
                {
                    return null;
                }

                object value = true;
                if (Peek == '=')
                {
                    Advance();
                    if (BareItem() is not { } item)
                    {
                        return null;
                    }

                    value = item;
                }

                parameters.Add(new(key, value));
            }

            return parameters;
        }

        public object? BareItem()
        {
            var c = Peek;
            if (c == '"')
            {
                return StringItem();
            }

            if (c == ':')
            {
                return Bytes();
            }

            if (c == '?')
            {
                Advance();
                var flag = Peek;
                Advance();
                return flag switch { '1' => true, '0' => false, _ => null };
            }

            if (c == '-' || char.IsAsciiDigit(c))
            {
                return Integer();
            }

            if (char.IsAsciiLetter(c) || c == '*')
            {
                var start = _at;
                while (!AtEnd && (char.IsAsciiLetterOrDigit(Peek) || Peek is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~' or ':' or '/'))
                {
                    _at++;
                }

                return new SfToken(_text[start.._at]);
            }

            return null;
        }

        private string? StringItem()
        {
            Advance();
            var builder = new StringBuilder();
            while (!AtEnd)
            {
                var c = _text[_at++];
                if (c == '\\')
                {
                    if (AtEnd || _text[_at] is not ('"' or '\\'))
                    {
                        return null;
                    }

                    builder.Append(_text[_at++]);
                }
                else if (c == '"')
                {
                    return builder.ToString();
                }
                else if (c is < ' ' or > '~')
                {
                    return null;
                }
                else
                {
                    builder.Append(c);
                }
            }

            return null;
        }

        private byte[]? Bytes()
        {
            Advance();
            var end = _text.IndexOf(':', _at);
            if (end < 0)
            {
                return null;
            }

            var encoded = _text.AsSpan(_at, end - _at);
            foreach (var ch in encoded)
            {
                if (!(char.IsAsciiLetterOrDigit(ch) || ch is '+' or '/' or '='))
                {
                    return null;
                }
            }

            _at = end + 1;
            var buffer = new byte[(encoded.Length * 3 / 4) + 3];
            return Convert.TryFromBase64Chars(encoded, buffer, out var written) ? buffer[..written] : null;
        }

        private long? Integer()
        {
            var start = _at;
            if (Peek == '-')
            {
                _at++;
            }

            var digits = _at;
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                _at++;
            }

            if (_at == digits || _at - digits > 15 || Peek == '.')
            {
                return null;
            }

            return long.Parse(_text.AsSpan(start, _at - start), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
