using System.Text;

namespace ServerlessServe.Cli.Jobs;

/// <summary>
/// Where <c>ssctl job submit</c> reads its job from: <c>--file F</c> (a V2 request or <c>{"items":[...]}</c>),
/// <c>--data JSON</c>, <c>--jsonl F</c> (one V2 request per line), or standard input when none is given. A file
/// named <c>-</c> is standard input too.
/// </summary>
internal sealed record JobInput(string? File, string? Data, string? JsonLines)
{
    public const string StandardInput = "-";

    /// <summary>More than one of <c>--file</c>, <c>--data</c> and <c>--jsonl</c> is a usage error.</summary>
    public bool IsAmbiguous => new[] { File, Data, JsonLines }.Count(static s => s is not null) > 1;

    public async Task<JobBody> ReadAsync(Stream standardInput, bool inputRedirected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(standardInput);
        if (Data is not null)
        {
            return JobBody.FromDocument(Encoding.UTF8.GetBytes(Data), "--data");
        }

        if (JsonLines is not null)
        {
            var (bytes, source) = await ReadAsync(JsonLines, standardInput, inputRedirected, cancellationToken).ConfigureAwait(false);
            return JobBody.FromJsonLines(bytes, source);
        }

        var (document, name) = await ReadAsync(File ?? StandardInput, standardInput, inputRedirected, cancellationToken).ConfigureAwait(false);
        return JobBody.FromDocument(document, name);
    }

    private static async Task<(byte[] Bytes, string Source)> ReadAsync(string path, Stream standardInput, bool inputRedirected, CancellationToken cancellationToken)
    {
        if (path != StandardInput)
        {
            return (await System.IO.File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), path);
        }

        if (!inputRedirected)
        {
            throw new JobInputException("no job given: use --file, --data or --jsonl, or pipe a V2 request on standard input");
        }

        using var buffer = new MemoryStream();
        await standardInput.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return (buffer.ToArray(), "standard input");
    }
}
