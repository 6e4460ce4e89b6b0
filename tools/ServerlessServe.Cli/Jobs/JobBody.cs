using System.Text;
using System.Text.Json;

namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// The body of a job submission, checked before it is sent: one V2 request object, <c>{"items":[...]}</c>, or JSON
/// lines (one V2 request per line) wrapped into <c>{"items":[...]}</c>. Only the shape is checked here; each item's
/// content is the gateway's to validate. Single documents are sent byte for byte as given.
/// </summary>
internal sealed record JobBody(byte[] Utf8Json, int Items)
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A V2 request or <c>{"items":[...]}</c>; <paramref name="source"/> names it in errors.</summary>
    public static JobBody FromDocument(ReadOnlySpan<byte> utf8, string source)
    {
        var bytes = WithoutBom(utf8);
        using var document = Parse(bytes, source, line: null);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JobInputException($"{source}: a job is a V2 request object or {{\"items\":[...]}}");
        }

        if (!root.TryGetProperty("items", out var items))
        {
            return new JobBody(bytes.ToArray(), 1);
        }

        if (items.ValueKind != JsonValueKind.Array || items.GetArrayLength() == 0 || root.EnumerateObject().Count() != 1)
        {
            throw new JobInputException($"{source}: \"items\" must be the only property: a non-empty array of V2 requests");
        }

        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new JobInputException($"{source}: items[{index}] is not a V2 request object");
            }

            index++;
        }

        return new JobBody(bytes.ToArray(), index);
    }

    /// <summary>JSON lines: one V2 request object per line (blank lines skipped), sent as <c>{"items":[...]}</c>.</summary>
    public static JobBody FromJsonLines(ReadOnlySpan<byte> utf8, string source)
    {
        // Strict: a replacing decoder would turn a byte that is not UTF-8 into U+FFFD and submit other text than the file
        // holds, where --file refuses the same bytes as not JSON.
        string text;
        try
        {
            text = StrictUtf8.GetString(WithoutBom(utf8));
        }
        catch (DecoderFallbackException)
        {
            throw new JobInputException($"{source} line {FirstInvalidLine(WithoutBom(utf8))}: not valid UTF-8");
        }

        var body = new StringBuilder("{\"items\":[");
        var count = 0;
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            using (var document = Parse(Encoding.UTF8.GetBytes(line), source, lineNumber))
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new JobInputException($"{source} line {lineNumber}: not a V2 request object");
                }

                if (document.RootElement.TryGetProperty("items", out _))
                {
                    throw new JobInputException($"{source} line {lineNumber}: one V2 request per line; a whole {{\"items\":[...]}} job goes in --file");
                }
            }

            body.Append(count == 0 ? "" : ",").Append(line);
            count++;
        }

        if (count == 0)
        {
            throw new JobInputException($"{source}: no requests (one V2 request object per line)");
        }

        return new JobBody(Encoding.UTF8.GetBytes(body.Append("]}").ToString()), count);
    }

    private static JsonDocument Parse(ReadOnlySpan<byte> utf8, string source, int? line)
    {
        try
        {
            return JsonDocument.Parse(utf8.ToArray(), Options);
        }
        catch (JsonException ex)
        {
            var where = line is { } n ? $"{source} line {n}" : $"{source} (line {(ex.LineNumber ?? 0) + 1})";
            throw new JobInputException(utf8.IsEmpty || utf8.Trim(" \t\r\n"u8).IsEmpty ? $"{source}: empty, no request" : $"{where}: not valid JSON", ex);
        }
    }

    // The 1-based number of the first line holding bytes that are not UTF-8.
    private static int FirstInvalidLine(ReadOnlySpan<byte> utf8)
    {
        var line = 1;
        while (true)
        {
            var end = utf8.IndexOf((byte)'\n');
            if (!System.Text.Unicode.Utf8.IsValid(end < 0 ? utf8 : utf8[..end]) || end < 0)
            {
                return line;
            }

            utf8 = utf8[(end + 1)..];
            line++;
        }
    }

    private static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> utf8) =>
        utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? utf8[3..] : utf8;
}
