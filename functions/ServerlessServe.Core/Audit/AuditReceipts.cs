using System.Globalization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using ServerlessServe.Core.Serving;

namespace ServerlessServe.Core.Audit;

/// <summary>What <see cref="AuditReceipts.BeginAsync"/> found for a record key.</summary>
public enum ReceiptState
{
    /// <summary>No attempt before: append the record, then commit the receipt.</summary>
    New,

    /// <summary>An earlier attempt began and did not finish (a crash, a re-run): the record may or may not be in a chain.</summary>
    Interrupted,

    /// <summary>The record is committed: never append it again.</summary>
    Committed,
}

/// <summary>
/// Exactly-once audit records for work that runs at least once (durable activities): per record key two write-once
/// blobs beside the chains, <c>receipts/{key}/begun</c> (with the time the attempt began) and
/// <c>receipts/{key}/committed</c>. Both are created with <c>If-None-Match: *</c> and never changed, so they also hold
/// under the container's write-once policy. An attempt that finds the key committed appends nothing; one that finds it
/// begun but not committed looks in the chains written since then for the key's record before appending it.
/// </summary>
public sealed class AuditReceipts(BlobContainerClient container, TimeProvider time)
{
    public const string Prefix = "receipts/";

    private readonly CreateOnce _created = new(() => container.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None));

    /// <summary>How far before an attempt's start a chain segment may have been last written and still hold its record.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The lease an attempt holds its key with (on its begun marker): the longest finite lease. A live attempt renews it
    /// every third of it, so a step that runs longer keeps its key; one whose process died lets go within it.
    /// </summary>
    public static readonly TimeSpan AttemptLease = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Marks an attempt at <paramref name="key"/>'s record as begun and says what earlier attempts left. The attempt holds
    /// the key until it is disposed (a lease of <see cref="AttemptLease"/> on the begun marker, which a process that died
    /// lets lapse): a second live attempt at the same key (the same step delivered twice after a crash, both runs at
    /// once) waits for it, then sees what it did, so the two never both append the key's records. Throws
    /// <see cref="TimeoutException"/> when the key stays held past <paramref name="wait"/> (default a lease and a bit).
    /// </summary>
    public async Task<ReceiptAttempt> BeginAsync(string key, CancellationToken cancellationToken, TimeSpan? wait = null)
    {
        // The audit sink creates the container with its first record; a job's first item may come before that.
        await _created.EnsureAsync().ConfigureAwait(false);

        // The common case is a first attempt: one write and its lease. Only a key begun before costs the look for its
        // commit.
        var now = time.GetUtcNow();
        var begun = container.GetBlobClient(Begun(key));
        var created = false;
        try
        {
            await begun.UploadAsync(
                BinaryData.FromString(now.ToString("O", CultureInfo.InvariantCulture)),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken).ConfigureAwait(false);
            created = true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Begun before.
        }

        var (lease, waited) = await HoldAsync(begun, wait ?? AttemptLease + TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        try
        {
            if (created && !waited)
            {
                return new ReceiptAttempt(ReceiptState.New, now, lease, time);
            }

            // Committed or not, the caller may still look for the records (a re-run signs receipts from them): it gets
            // the time the first attempt began, so that look is bounded as for an interrupted one.
            var committed = await ExistsAsync(Committed(key), cancellationToken).ConfigureAwait(false);
            var since = (await begun.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToString();
            return new ReceiptAttempt(committed ? ReceiptState.Committed : ReceiptState.Interrupted, DateTimeOffset.Parse(since, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind), lease, time);
        }
        catch
        {
            await new ReceiptAttempt(ReceiptState.Interrupted, default, lease, time).DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // Takes the lease on the begun marker, waiting while another attempt holds it; says whether it had to wait.
    private async Task<(BlobLeaseClient Lease, bool Waited)> HoldAsync(BlobClient begun, TimeSpan wait, CancellationToken cancellationToken)
    {
        var lease = begun.GetBlobLeaseClient();
        var started = time.GetTimestamp();
        var waited = false;
        while (true)
        {
            try
            {
                await lease.AcquireAsync(AttemptLease, cancellationToken: cancellationToken).ConfigureAwait(false);
                return (lease, waited);
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // Held by another attempt (LeaseAlreadyPresent): it finishes, or its process died and the lease lapses.
                if (time.GetElapsedTime(started) >= wait)
                {
                    throw new TimeoutException($"Another attempt at this audit key has held it for {wait.TotalSeconds:F0} s.", ex);
                }

                waited = true;
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The records of <paramref name="requestIds"/> for <paramref name="operation"/> in chain segments written since
    /// <paramref name="since"/>, by request id (one pass over the segments; ids without such a record are absent). A
    /// record counts only as itself: a parsed line whose request id and operation are the ones asked for, whose writer
    /// is the segment's and whose hash is its content's. Text that merely names the request id does not (a security
    /// record's evidence names the request that raised it: found in review 2026-12-07, when a byte search took an
    /// extraction alarm of a job item for the item's record, and a re-run released the item unaudited), and neither
    /// does a line altered after it was hashed.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, AuditRecord>> FindRecordsAsync(IReadOnlyCollection<string> requestIds, string operation, DateTimeOffset since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requestIds);
        ArgumentNullException.ThrowIfNull(operation);
        var wanted = requestIds.ToHashSet(StringComparer.Ordinal);
        var found = new Dictionary<string, AuditRecord>(StringComparer.Ordinal);
        if (wanted.Count == 0)
        {
            return found;
        }

        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, AuditBlobNames.ChainsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if ((blob.Properties.LastModified is { } modified && modified < Earliest(since)) || !AuditBlobNames.TryParseSegment(blob.Name, out var writer, out _))
            {
                continue;
            }

            var content = (await container.GetBlobClient(blob.Name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            foreach (var (start, length) in AuditLines.Split(content.Span))
            {
                if (AuditRecord.TryParse(content.Span.Slice(start, length), out var record, out _)
                    && wanted.Contains(record!.RequestId)
                    && string.Equals(record.Operation, operation, StringComparison.Ordinal)
                    && string.Equals(record.WriterId, writer, StringComparison.Ordinal)
                    && string.Equals(record.Hash, record.ComputeHash(), StringComparison.Ordinal))
                {
                    found.TryAdd(record.RequestId, record);
                }
            }

            if (found.Count == wanted.Count)
            {
                break;
            }
        }

        return found;
    }

    /// <summary>Marks <paramref name="key"/>'s record as committed (idempotent).</summary>
    public async Task CommitAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await container.GetBlobClient(Committed(key)).UploadAsync(
                BinaryData.FromString(time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Committed already.
        }
    }

    // The oldest last write a segment holding a record of an attempt begun at since may have; no bound for an unknown time.
    private static DateTimeOffset Earliest(DateTimeOffset since) =>
        since > DateTimeOffset.MinValue + ClockSkew ? since - ClockSkew : DateTimeOffset.MinValue;

    private async Task<bool> ExistsAsync(string name, CancellationToken cancellationToken) =>
        (await container.GetBlobClient(name).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value;

    private static string Begun(string key) => Prefix + key + "/begun";

    private static string Committed(string key) => Prefix + key + "/committed";
}

/// <summary>
/// One attempt at a record key (<see cref="AuditReceipts.BeginAsync"/>): what earlier attempts left, and the key held
/// until disposed.
/// </summary>
public sealed class ReceiptAttempt : IAsyncDisposable
{
    private readonly BlobLeaseClient? _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _lost = new();
    private readonly Task _renewals;
    private int _released;

    internal ReceiptAttempt(ReceiptState state, DateTimeOffset since, BlobLeaseClient? lease, TimeProvider time)
    {
        State = state;
        Since = since;
        _lease = lease;
        _renewals = lease is null ? Task.CompletedTask : RenewAsync(lease, time);
    }

    /// <summary>
    /// Cancelled when the attempt has lost its key: its lease could not be renewed (broken, or lapsed and taken by
    /// another attempt). Work done under the key should stop there, as a second attempt may now be doing it.
    /// </summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>What earlier attempts left.</summary>
    public ReceiptState State { get; }

    /// <summary>When the first attempt at the key began: chain segments last written before it (less a clock skew) cannot hold its records.</summary>
    public DateTimeOffset Since { get; }

    public void Deconstruct(out ReceiptState state, out DateTimeOffset since) => (state, since) = (State, Since);

    /// <summary>Lets go of the key (best effort: a lease that cannot be released lapses by itself).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewals.ConfigureAwait(false);
        _stop.Dispose();
        if (_lease is not null && !_lost.IsCancellationRequested)
        {
            try
            {
                await _lease.ReleaseAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RequestFailedException or IOException or OperationCanceledException)
            {
                // It lapses within AuditReceipts.AttemptLease.
            }
        }
    }

    // Renews the lease every third of its length until disposed. A renewal the service refuses (the lease broken, or
    // lapsed and taken) loses the key at once; renewals that fail in transit lose it once a whole lease has passed
    // since the last good one, when it has lapsed anyway.
    private async Task RenewAsync(BlobLeaseClient lease, TimeProvider time)
    {
        var renewed = time.GetTimestamp();
        try
        {
            while (true)
            {
                await Task.Delay(AuditReceipts.AttemptLease / 3, time, _stop.Token).ConfigureAwait(false);
                try
                {
                    await lease.RenewAsync(cancellationToken: _stop.Token).ConfigureAwait(false);
                    renewed = time.GetTimestamp();
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
                {
                    await _lost.CancelAsync().ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is RequestFailedException or IOException or TimeoutException or HttpRequestException && !_stop.IsCancellationRequested)
                {
                    if (time.GetElapsedTime(renewed) >= AuditReceipts.AttemptLease)
                    {
                        await _lost.CancelAsync().ConfigureAwait(false);
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }
}
