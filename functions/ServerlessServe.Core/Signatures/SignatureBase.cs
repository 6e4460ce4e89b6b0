using System.Text;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// The signature base of RFC 9421 §2.5: one line <c>"name": value</c> per covered component, in the order the signature
/// lists them, then <c>"@signature-params": …</c>, joined by LF with none at the end; the bytes signed are its ASCII.
/// </summary>
public static class SignatureBase
{
    /// <summary>
    /// The base over <paramref name="components"/> (name, value) and the serialised signature parameters; null when a value
    /// holds a character a field value may not (a control character, or anything outside ASCII).
    /// </summary>
    public static string? Build(IEnumerable<(string Name, string Value)> components, string signatureParams)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(signatureParams);
        var builder = new StringBuilder(512);
        foreach (var (name, value) in components)
        {
            if (!IsFieldValue(value))
            {
                return null;
            }

            builder.Append('"').Append(name).Append("\": ").Append(value).Append('\n');
        }

        return builder.Append("\"@signature-params\": ").Append(signatureParams).ToString();
    }

    /// <summary>
    /// A header's value as a component (RFC 9421 §2.1): each field line trimmed, lines joined with <c>", "</c>; null
    /// when the header is absent.
    /// </summary>
    public static string? FieldValue(IReadOnlyList<string>? lines) =>
        lines is null || lines.Count == 0 ? null : string.Join(", ", lines.Select(l => l.Trim(' ', '\t')));

    private static bool IsFieldValue(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~' && c != '\t')
            {
                return false;
            }
        }

        return true;
    }
}
