using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;

namespace ServerlessServe.Core.Audit;

/// <summary>
/// Where each receipted record is, by request id, so that <c>GET /api/audit/proofs/{requestId}</c> finds it on any
/// instance: one write-once blob <c>receipt-index/{requestId}.json</c> per receipt in the audit container
/// (<c>{"v":1,"requestId","writerId","seq","leafHash"}</c>), written off the response path, and the most recent
/// receipts of this instance in memory.
/// </summary>
/// <remarks>
/// The index write is not on the response path (a receipt costs a signature, not a second storage round trip). If the
/// instance stops in the milliseconds between answering and writing, the record is still in the log and the receipt
/// still names its writer and seq, but the proof endpoint cannot find it by request id (warning 5020 when a write
/// fails). The index names places only; the proof endpoint checks the record itself (its request id and caller).
/// </remarks>
public sealed class AuditReceiptIndex : IAsyncDisposable
{
    /// <summary>Folder of the index blobs in the audit container.</summary>
    public const string Prefix = "receipt-index/";

    private const int RecentCapacity = 65_536;

    private static readonly System.Buffers.SearchValues<char> RequestIdCharacters =
        System.Buffers.SearchValues.Create("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_");

    private readonly BlobContainerClient _container;
    private readonly ILogger _logger;
    private readonly Channel<AuditReceipt> _queue = Channel.CreateBounded<AuditReceipt>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private readonly ConcurrentDictionary<string, AuditLeaf> _recent = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _recentOrder = new();
    private readonly Task _loop;

    public AuditReceiptIndex(BlobContainerClient container, ILogger<AuditReceiptIndex> logger)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(logger);
        _container = container;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// True for a request id the index can name: at most 64 of letters, digits, <c>-</c> and <c>_</c>, with single dots
    /// between them (a job item's id is <c>{jobId}.{index}</c>; before 2026-12-07 the dot was refused, so no job item was
    /// ever indexed and each one's proof answered 404). Never a leading or trailing dot, nor two together: the id names
    /// a blob, and a <c>..</c> segment must not reach a blob name.
    /// </summary>
    public static bool IsValidRequestId(string? requestId)
    {
        if (requestId is not { Length: > 0 and <= 64 } || requestId[0] == '.' || requestId[^1] == '.' || requestId.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var part in requestId.Split('.'))
        {
            if (part.AsSpan().ContainsAnyExcept(RequestIdCharacters))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Remembers where <paramref name="receipt"/>'s record is and queues its index blob.</summary>
    public void Remember(AuditReceipt receipt)
    {
        ArgumentNullException.ThrowIfNull(receipt);
        if (!IsValidRequestId(receipt.RequestId))
        {
            return;
        }

        if (_recent.TryAdd(receipt.RequestId, new AuditLeaf(receipt.WriterId, receipt.Seq, receipt.LeafHash)))
        {
            _recentOrder.Enqueue(receipt.RequestId);
            while (_recentOrder.Count > RecentCapacity && _recentOrder.TryDequeue(out var old))
            {
                _recent.TryRemove(old, out _);
            }
        }

        if (!_queue.Writer.TryWrite(receipt))
        {
            Log.ReceiptIndexFailed(_logger, receipt.RequestId, "queue full or closed");
        }
    }

    /// <summary>Where the record of <paramref name="requestId"/> is, or null when no receipt was indexed for it.</summary>
    public async Task<AuditLeaf?> FindAsync(string requestId, CancellationToken cancellationToken)
    {
        if (!IsValidRequestId(requestId))
        {
            return null;
        }

        if (_recent.TryGetValue(requestId, out var recent))
        {
            return recent;
        }

        try
        {
            var content = (await _container.GetBlobClient(Name(requestId)).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content;
            using var document = JsonDocument.Parse(content.ToMemory());
            var root = document.RootElement;
            if (root.GetProperty("v").GetInt32() != 1 || root.GetProperty("requestId").GetString() != requestId)
            {
                return null;
            }

            return new AuditLeaf(root.GetProperty("writerId").GetString()!, root.GetProperty("seq").GetInt64(), root.GetProperty("leafHash").GetString()!);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Writes what is queued, then stops (waits at most 5 s).</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static string Name(string requestId) => Prefix + requestId + ".json";

    private async Task RunAsync()
    {
        var created = false;
        await foreach (var receipt in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (!created)
                {
                    await _container.CreateIfNotExistsAsync().ConfigureAwait(false);
                    created = true;
                }

                var body = new CanonicalJson().BeginObject()
                    .Integer("v", 1)
                    .String("requestId", receipt.RequestId)
                    .String("writerId", receipt.WriterId)
                    .Integer("seq", receipt.Seq)
                    .String("leafHash", receipt.LeafHash)
                    .EndObject()
                    .ToBytes();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _container.GetBlobClient(Name(receipt.RequestId)).UploadAsync(
                    BinaryData.FromBytes(body),
                    new BlobUploadOptions
                    {
                        Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                        HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                    },
                    timeout.Token).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // Already indexed (write-once): nothing to do.
            }
            catch (Exception ex) when (ex is RequestFailedException or OperationCanceledException or IOException or AggregateException)
            {
                Log.ReceiptIndexFailed(_logger, receipt.RequestId, ex.GetType().Name);
            }
        }
    }
}
