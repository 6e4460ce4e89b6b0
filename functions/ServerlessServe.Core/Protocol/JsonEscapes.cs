using System.Buffers;
using System.Text.Json;

namespace ServerlessServe.Core.Protocol;

/// <summary>
/// Escaped surrogates in JSON text. JSON's grammar allows a <c>\uD800</c>–<c>\uDFFF</c> escape without its pair (RFC 8259,
/// 8.2), I-JSON does not (RFC 7493, 2.1), and System.Text.Json throws <see cref="InvalidOperationException"/>, not
/// <see cref="JsonException"/>, when it decodes one: when a property name is compared (<c>ValueTextEquals</c>,
/// <c>TryGetProperty</c>) or listed (<c>JsonProperty.Name</c>), or a string is read. Text from a caller is checked with
/// these before such reads, so one is refused as bad input rather than failing the request (found by the request fuzz
/// target: a request whose top-level property name held one was answered 500).
/// </summary>
public static class JsonEscapes
{
    /// <summary>
    /// Whether the current property name or string token of <paramref name="reader"/> decodes to well-formed UTF-16.
    /// True for any other token and for a value without escapes, at no cost.
    /// </summary>
    public static bool IsWellFormed(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped || reader.TokenType is not (JsonTokenType.PropertyName or JsonTokenType.String))
        {
            return true;
        }

        // Unescaped, a value has at most as many UTF-16 units as it has bytes.
        var length = checked((int)(reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length));
        char[]? rented = null;
        var buffer = length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            reader.CopyString(buffer);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        finally
        {
            if (rented is not null)
            {
                // Wiped: the value may be a caller's.
                ArrayPool<char>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>
    /// Whether every property name and string of <paramref name="utf8Json"/> decodes to well-formed UTF-16, read with
    /// <paramref name="options"/> (those of the parse that follows). True for text that is not JSON under those options:
    /// that parse refuses it as such.
    /// </summary>
    public static bool AreWellFormed(ReadOnlySpan<byte> utf8Json, JsonReaderOptions options = default)
    {
        var reader = new Utf8JsonReader(utf8Json, options);
        try
        {
            while (reader.Read())
            {
                if (!IsWellFormed(ref reader))
                {
                    return false;
                }
            }
        }
        catch (JsonException)
        {
            return true;
        }

        return true;
    }
}
