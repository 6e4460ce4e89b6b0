using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>
/// Parses the ARM template expression language: function calls, single-quoted strings (<c>''</c>
/// escapes a quote), integers, <c>.member</c> and <c>[index]</c> accessors.
/// </summary>
public sealed class ArmExpressionParser
{
    private readonly string _text;
    private int _pos;

    private ArmExpressionParser(string text) => _text = text;

    /// <summary>True when a JSON string is an expression: <c>[...]</c> but not the escaped <c>[[...</c>.</summary>
    public static bool IsExpression(string value) =>
        value.Length >= 2 && value[0] == '[' && value[^1] == ']' && value[1] != '[';

    public static ArmExpression Parse(string expression)
    {
        var parser = new ArmExpressionParser(expression);
        var result = parser.ParseExpression();
        parser.SkipWhitespace();
        if (parser._pos != parser._text.Length)
        {
            throw new FormatException($"Unexpected '{parser._text[parser._pos]}' at {parser._pos} in: {expression}");
        }

        return result;
    }

    private ArmExpression ParseExpression()
    {
        SkipWhitespace();
        ArmExpression expression = Peek() switch
        {
            '\'' => new LiteralExpression(JsonValue.Create(ReadString())),
            var c when char.IsDigit(c) || c == '-' => new LiteralExpression(JsonValue.Create(ReadInteger())),
            _ => ParseCall(),
        };

        while (true)
        {
            SkipWhitespace();
            if (Peek() == '.')
            {
                _pos++;
                expression = new MemberExpression(expression, ReadIdentifier());
            }
            else if (Peek() == '[')
            {
                _pos++;
                var index = ParseExpression();
                Expect(']');
                expression = new IndexExpression(expression, index);
            }
            else
            {
                return expression;
            }
        }
    }

    private CallExpression ParseCall()
    {
        var name = ReadIdentifier();
        // A user-defined function is called as namespace.member(...), e.g. __bicep.pemText(...).
        if (Peek() == '.')
        {
            var start = _pos++;
            var member = ReadIdentifier();
            SkipWhitespace();
            if (member.Length > 0 && Peek() == '(')
            {
                name = $"{name}.{member}";
            }
            else
            {
                _pos = start;
            }
        }

        SkipWhitespace();
        Expect('(');
        var arguments = new List<ArmExpression>();
        SkipWhitespace();
        if (Peek() == ')')
        {
            _pos++;
            return new CallExpression(name, arguments);
        }

        while (true)
        {
            arguments.Add(ParseExpression());
            SkipWhitespace();
            var next = Next();
            if (next == ')')
            {
                return new CallExpression(name, arguments);
            }

            if (next != ',')
            {
                throw new FormatException($"Expected ',' or ')' at {_pos - 1} in: {_text}");
            }
        }
    }

    private string ReadString()
    {
        Expect('\'');
        var builder = new StringBuilder();
        while (true)
        {
            var c = Next();
            if (c == '\'')
            {
                if (Peek() != '\'')
                {
                    return builder.ToString();
                }

                _pos++;
            }

            builder.Append(c);
        }
    }

    private long ReadInteger()
    {
        var start = _pos;
        if (Peek() == '-')
        {
            _pos++;
        }

        while (_pos < _text.Length && char.IsDigit(_text[_pos]))
        {
            _pos++;
        }

        return long.Parse(_text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    private string ReadIdentifier()
    {
        SkipWhitespace();
        var start = _pos;
        while (_pos < _text.Length && (char.IsLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '$'))
        {
            _pos++;
        }

        if (start == _pos)
        {
            throw new FormatException($"Expected an identifier at {_pos} in: {_text}");
        }

        return _text[start.._pos];
    }

    private void Expect(char expected)
    {
        if (Next() != expected)
        {
            throw new FormatException($"Expected '{expected}' at {_pos - 1} in: {_text}");
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private char Next() =>
        _pos < _text.Length ? _text[_pos++] : throw new FormatException($"Unexpected end of: {_text}");

    private void SkipWhitespace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }
}
