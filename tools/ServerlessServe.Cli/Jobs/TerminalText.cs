using System.Text;

namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// Text from the gateway made safe to print: control characters (terminal escape sequences) replaced, and cut to a
/// length that fits a line. The gateway's messages are already sanitised; this guards the terminal, not the data.
/// </summary>
internal static class TerminalText
{
    public static string Clean(string? text, int maxLength = 300)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var builder = new StringBuilder(Math.Min(text.Length, maxLength + 1));
        foreach (var c in text)
        {
            if (builder.Length == maxLength)
            {
                builder.Append('…');
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString();
    }
}
