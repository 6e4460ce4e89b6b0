using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Redaction;

namespace ServerlessServe.Jobs;

/// <summary>
/// A finished job's status document, written as its results are read. The first chunk of results is read and checked
/// before the answer starts (a missing or altered first chunk is still a clean 500); each further chunk is read, checked
/// and written in turn, so one chunk of results is in memory at a time. Before 2026-12-07 the whole job's results were
/// held twice (the list and the document) for every status read: 16 reads at once of a 1,000-item job with a large
/// output held 32 copies of its output. A later chunk that fails its check cannot turn the 200 already sent into a 500:
/// the connection is aborted, so the caller's client reports an answer cut short and never reads a document without
/// that chunk as whole. The caller's place in its job-route limits (<paramref name="lease"/>) is held until the last
/// byte is written, so a reader that reads slowly still counts towards its 16 at once.
/// </summary>
internal sealed class JobStatusResult(
    Action<Utf8JsonWriter> head,
    ItemResult[] first,
    IReadOnlyList<Payload> rest,
    PayloadStore payloads,
    IDisposable? lease,
    ILogger logger,
    string jobId) : IActionResult
{
    // Written out once this much is waiting in the writer, and after each chunk.
    private const int FlushBytes = 64 * 1024;

    /// <summary>Extra response headers (<c>Location</c>, <c>Deprecation</c>, <c>Sunset</c>).</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var http = context.HttpContext;
            var response = http.Response;
            var aborted = http.RequestAborted;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = Hosting.Http.V2Results.Json;
            response.Headers["X-Content-Type-Options"] = "nosniff";
            response.Headers.CacheControl = "no-store";
            foreach (var (name, value) in Headers)
            {
                response.Headers[name] = value;
            }

            await using var writer = new Utf8JsonWriter(response.Body);
            writer.WriteStartObject();
            head(writer);
            writer.WriteStartArray("results");
            await WriteAsync(writer, first, aborted).ConfigureAwait(false);
            foreach (var chunk in rest)
            {
                ItemResult[] results;
                try
                {
                    results = await payloads.GetAsync<ItemResult[]>(chunk, aborted).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is PayloadIntegrityException or Azure.RequestFailedException)
                {
                    // Altered, missing, or storage failing part-way: the answer already started cannot say so.
                    Log.ResultsUnreadable(logger, jobId, TelemetryRedaction.Text(ex.Message));
                    http.Abort();
                    return;
                }

                await WriteAsync(writer, results, aborted).ConfigureAwait(false);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            await writer.FlushAsync(aborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (context.HttpContext.RequestAborted.IsCancellationRequested && ex is OperationCanceledException or IOException)
        {
            // The caller left while its results were being written: nothing to answer.
            Log.CallerLeft(logger, context.HttpContext.Request.Method, ex.GetType().Name);
        }
        finally
        {
            lease?.Dispose();
        }
    }

    /// <summary>One item's entry in the document's <c>results</c>.</summary>
    public static void Write(Utf8JsonWriter w, ItemResult item)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(item);
        w.WriteStartObject();
        w.WriteNumber("index", item.Index);
        w.WriteString("outcome", item.Outcome);
        if (item.Response is { } response)
        {
            w.WritePropertyName("response");
            response.WriteTo(w);
        }

        if (item.Error is { } error)
        {
            w.WriteString("error", error);
        }

        if (item.Receipt is { } itemReceipt)
        {
            w.WriteString("receipt", itemReceipt);
        }

        w.WriteEndObject();
    }

    private static async Task WriteAsync(Utf8JsonWriter writer, ItemResult[] results, CancellationToken cancellationToken)
    {
        foreach (var item in results)
        {
            Write(writer, item);
            if (writer.BytesPending >= FlushBytes)
            {
                await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
