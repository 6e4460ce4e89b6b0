using System.Text.Json.Nodes;

namespace ServerlessServe.Infra.Tests.Arm;

/// <summary>
/// Values the evaluator cannot know before deployment (<c>reference()</c>, <c>uniqueString()</c>,
/// <c>subscription()</c>, ...) are kept as symbolic terms: a JSON string <c>«text»</c> holding the
/// canonical expression. Strings built from them embed the term, so <c>'st' + uniqueString(x)</c> becomes
/// <c>st«uniqueString(x)»</c>: the same expression always renders the same way (a subnet's NSG id and the
/// NSG's own name still match), and a rule that needs a literal sees that it has none and fails closed.
/// </summary>
public static class Symbolic
{
    public const char Open = '«';
    public const char Close = '»';

    public static JsonValue Of(string text) => JsonValue.Create($"{Open}{text}{Close}");

    /// <summary>The whole value is one unknown term.</summary>
    public static bool Is(JsonNode? node) => TryGetInner(node, out _);

    /// <summary>The value is, or contains, an unknown term.</summary>
    public static bool Contains(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue(out string? text) && text.Contains(Open, StringComparison.Ordinal);

    public static bool TryGetInner(JsonNode? node, out string inner)
    {
        inner = string.Empty;
        if (node is not JsonValue value || !value.TryGetValue(out string? text) || text.Length < 2 || text[0] != Open || text[^1] != Close)
        {
            return false;
        }

        // The first marker must close at the very end, not earlier («a»x«b» is a string, not a term).
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] == Open ? 1 : text[i] == Close ? -1 : 0;
            if (depth == 0 && i < text.Length - 1)
            {
                return false;
            }
        }

        inner = text[1..^1];
        return true;
    }
}
