using System.Globalization;

namespace ServerlessServe.Jobs;

/// <summary>
/// The <c>wait</c> preference of an HTTP <c>Prefer</c> header (RFC 7240 §4.3): how many seconds the client is willing
/// to wait for the job to finish before getting an answer. Anything else in the header is ignored, as the RFC asks.
/// </summary>
public static class PreferWait
{
    /// <summary>The requested wait, or null when the header asks for none (absent, malformed, negative).</summary>
    public static TimeSpan? Parse(IEnumerable<string?> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        foreach (var header in headers)
        {
            foreach (var preference in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // A preference is token [ "=" value ] followed by optional ";" parameters.
                var head = preference.Split(';', 2)[0];
                var equals = head.IndexOf('=', StringComparison.Ordinal);
                if (equals < 0 || !head[..equals].Trim().Equals("wait", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var value = head[(equals + 1)..].Trim().Trim('"');
                return value.Length is > 0 and <= 6 && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                    ? TimeSpan.FromSeconds(seconds)
                    : null;
            }
        }

        return null;
    }
}
