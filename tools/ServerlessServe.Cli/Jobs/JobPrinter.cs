using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// What <c>ssctl job</c> prints on standard output: with <c>--json</c> the gateway's answer unchanged (one line, for
/// jq); otherwise a status line, or for a completed job a short table of its items and a summary line for scripts.
/// Everything from the gateway goes through <see cref="TerminalText"/>.
/// </summary>
internal static class JobPrinter
{
    private const int ValuesShown = 6;

    public static string StatusLine(JobDocument job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var model = job.ModelName is null ? "" : $" ({TerminalText.Clean(job.ModelName, 80)} version {TerminalText.Clean(job.ModelVersion, 40)})";
        return $"job {TerminalText.Clean(job.Id, 80)}: {TerminalText.Clean(job.Status, 20)}, {job.Done}/{job.Items} items done{model}";
    }

    /// <summary>A completed job's items (index, outcome, the released outputs or the refusal), then the summary line.</summary>
    public static void Results(JobDocument job, IAnsiConsole console, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(output);
        var results = job.Results ?? [];
        var table = new Table().AddColumn("item").AddColumn("outcome").AddColumn("released outputs, or why refused");
        foreach (var item in results)
        {
            table.AddRow(
                item.Index.ToString(CultureInfo.InvariantCulture),
                item.IsReleased ? "[green]released[/]" : $"[red]{Markup.Escape(TerminalText.Clean(item.Outcome, 40))}[/]",
                Markup.Escape(item.IsReleased ? Outputs(item.Response) : TerminalText.Clean(item.Error)));
        }

        console.Write(table);
        output.WriteLine(Summary(job));
    }

    /// <summary>One line for scripts: <c>job ID completed: N released, M refused (model version V)</c>.</summary>
    public static string Summary(JobDocument job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var results = job.Results ?? [];
        var released = results.Count(static r => r.IsReleased);
        var model = job.ModelName is null ? "" : $" ({TerminalText.Clean(job.ModelName, 80)} version {TerminalText.Clean(job.ModelVersion, 40)})";
        return $"job {TerminalText.Clean(job.Id, 80)} {TerminalText.Clean(job.Status, 20)}: {released} released, {results.Count - released} refused{model}";
    }

    /// <summary>The gateway's answer indented, for a file a person may open.</summary>
    public static byte[] Indented(string json)
    {
        using var document = JsonDocument.Parse(json);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            document.WriteTo(writer);
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary><c>name [v, v, …]</c> for each released output, the first few values of each.</summary>
    public static string Outputs(JsonElement? response)
    {
        if (response is not { ValueKind: JsonValueKind.Object } body
            || !body.TryGetProperty("outputs", out var outputs)
            || outputs.ValueKind != JsonValueKind.Array)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var output in outputs.EnumerateArray())
        {
            if (output.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var name = output.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : "?";
            text.Append(text.Length == 0 ? "" : "  ").Append(TerminalText.Clean(name, 60)).Append(' ');
            if (output.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            {
                var values = data.EnumerateArray().ToList();
                text.Append('[')
                    .AppendJoin(", ", values.Take(ValuesShown).Select(v => TerminalText.Clean(v.GetRawText(), 40)))
                    .Append(values.Count > ValuesShown ? ", …]" : "]");
            }
            else
            {
                text.Append("(binary)");
            }
        }

        return text.ToString();
    }
}
