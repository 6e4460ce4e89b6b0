using System.Buffers;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Security;
using ServerlessServe.Hosting.Options;
using ServerlessServe.Hosting.Tripwires;

namespace ServerlessServe.Hosting.Egress;

/// <summary>
/// Refuses every outbound request that carries a canary value — in its URI, a header, or a body of known length up to
/// <see cref="CanaryOptions.EgressScanLimitBytes"/> that can be read again (the segments of an <see cref="ISegmentedContent"/>
/// where they lie, so a forwarded tensor is not copied to be searched) — as the allow-list refuses a destination
/// (<see cref="EgressDeniedException"/>), and queues a <c>canary-egress</c> hit. It runs before the allow-list, so a
/// call to a host off the list is seen too. Bodies sent to the app's own storage account are not searched: job payloads
/// hold model outputs by design (their URIs and headers are).
/// </summary>
internal sealed class CanaryEgressHandler : DelegatingHandler
{
    private const int ChunkBytes = 64 * 1024;

    private readonly Canaries _canaries;
    private readonly CanaryAlarmQueue _alarms;
    private readonly int _limit;
    private readonly string? _ownStorage;
    private readonly ILogger<CanaryEgressHandler> _logger;

    public CanaryEgressHandler(Canaries canaries, CanaryAlarmQueue alarms, IOptions<CanaryOptions> options, IOptions<StorageOptions> storage, ILogger<CanaryEgressHandler> logger)
    {
        _canaries = canaries;
        _alarms = alarms;
        _limit = options.Value.EgressScanLimitBytes;
        _ownStorage = EgressAllowListFactory.StorageEndpoint(storage.Value) is { } endpoint ? EgressAllowList.EntryFor(endpoint) : null;
        _logger = logger;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tokens = _canaries.Tokens;
        if (!tokens.IsEmpty)
        {
            HashSet<string>? ids = null;
            var where = new List<string>(1);
            var host = request.RequestUri?.Host ?? "(none)";
            if (Found(tokens, request.RequestUri?.OriginalString, ref ids))
            {
                where.Add("uri");
            }

            if (FoundInHeaders(tokens, request, ref ids))
            {
                where.Add("headers");
            }

            if (request.Content is { } content && !IsOwnStorage(request.RequestUri)
                && await FoundInBodyAsync(tokens, content, host, ids ??= new HashSet<string>(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false))
            {
                where.Add("body");
            }

            if (where.Count > 0)
            {
                var canaries = CanaryTokens.Join(ids!);
                var found = string.Join(',', where);
                Log.CanaryEgress(_logger, host, found, canaries);
                _alarms.Enqueue(SecurityEventKinds.CanaryEgress, new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["canaries"] = canaries,
                    ["host"] = host,
                    ["found"] = found,
                });
                throw new EgressDeniedException();
            }
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private static bool Found(CanaryTokens tokens, string? text, ref HashSet<string>? ids)
    {
        var before = ids?.Count ?? 0;
        Hits.Find(tokens, text, ref ids);
        return (ids?.Count ?? 0) > before;
    }

    private static bool FoundInHeaders(CanaryTokens tokens, HttpRequestMessage request, ref HashSet<string>? ids)
    {
        var found = FoundIn(tokens, request.Headers.NonValidated, ref ids);
        if (request.Content is { } content)
        {
            found |= FoundIn(tokens, content.Headers.NonValidated, ref ids);
        }

        return found;
    }

    private static bool FoundIn(CanaryTokens tokens, HttpHeadersNonValidated headers, ref HashSet<string>? ids)
    {
        var found = false;
        foreach (var (_, values) in headers)
        {
            foreach (var value in values)
            {
                found |= Found(tokens, value, ref ids);
            }
        }

        return found;
    }

    private bool IsOwnStorage(Uri? uri) =>
        _ownStorage is not null && uri is { IsAbsoluteUri: true } && string.Equals(EgressAllowList.EntryFor(uri), _ownStorage, StringComparison.OrdinalIgnoreCase);

    // Searches a body that can be read again without being sent: the segments of one that hands them over
    // (ISegmentedContent: the forwarded tensors, read where they lie), or else a body in memory or a seekable stream,
    // read in chunks and put back where it was. Anything else is sent unsearched, and logged.
    private async Task<bool> FoundInBodyAsync(CanaryTokens tokens, HttpContent content, string host, HashSet<string> ids, CancellationToken cancellationToken)
    {
        // A segmented body knows its length even when it is sent chunked, without one in its headers.
        var known = content is ISegmentedContent { Length: var own } ? own : content.Headers.ContentLength;
        if (known is not { } length || length > _limit)
        {
            Log.BodyNotSearched(_logger, host, known is null ? "length unknown" : "over the limit");
            return false;
        }

        if (length == 0)
        {
            return false;
        }

        var search = new CanarySearch(tokens);
        if (content is ISegmentedContent segmented)
        {
            segmented.VisitSegments(static (segment, search) => search.Add(segment), search);
            return Found(search, ids);
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        if (!stream.CanSeek)
        {
            Log.BodyNotSearched(_logger, host, "readable once");
            return false;
        }

        var start = stream.Position;
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, ChunkBytes), cancellationToken).ConfigureAwait(false)) > 0)
            {
                search.Add(buffer.AsSpan(0, read));
            }

            return Found(search, ids);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
            stream.Position = start;
        }
    }

    private static bool Found(CanarySearch search, HashSet<string> ids)
    {
        var before = ids.Count;
        ids.UnionWith(search.Found);
        return ids.Count > before;
    }
}
