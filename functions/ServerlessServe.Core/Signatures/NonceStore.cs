using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// The replay store: an Azure table holding each signature nonce seen, shared by every gateway instance. A nonce is
/// recorded by inserting its entity (insert-if-absent: a conflict is a replay). Keys: SHA-256 of caller pseudonym, key
/// id and nonce in hex — the first two characters the partition (256 partitions spread the writes), the rest the row.
/// Each entity carries <c>Expires</c> (the end of the window in which its request could be accepted); Azure Tables have
/// no TTL, so <see cref="DeleteExpiredAsync"/> removes expired ones, and an expired entity still present does not block
/// its nonce (it is replaced under its ETag).
/// </summary>
public sealed class NonceStore
{
    private readonly TableClient _table;

    public NonceStore(TableClient table) => _table = table ?? throw new ArgumentNullException(nameof(table));

    /// <summary>The table's name.</summary>
    public string TableName => _table.Name;

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Records the nonce until <paramref name="expires"/>; false when it is already recorded and unexpired (a replay).
    /// Throws <see cref="RequestFailedException"/> when the table cannot be written: the caller fails closed.
    /// </summary>
    public async Task<bool> TryRecordAsync(string callerPseudonym, string keyId, string nonce, DateTimeOffset expires, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var (partition, row) = KeyOf(callerPseudonym, keyId, nonce);
        var entity = new TableEntity(partition, row) { ["Expires"] = expires };
        try
        {
            await AddAsync(entity, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!existing.HasValue)
            {
                // Deleted by the cleanup in between: record it now.
                return await TryAddAsync(entity, cancellationToken).ConfigureAwait(false);
            }

            if (existing.Value!.GetDateTimeOffset("Expires") is { } until && until > now)
            {
                return false;
            }

            try
            {
                await _table.UpdateEntityAsync(entity, existing.Value.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException raced) when (raced.Status is 412 or 404)
            {
                return false; // another request with the same nonce won the race
            }
        }
    }

    /// <summary>Deletes every entity expired before <paramref name="now"/>; returns how many.</summary>
    public async Task<int> DeleteExpiredAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var deleted = 0;
        var filter = TableClient.CreateQueryFilter($"Expires lt {now}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            try
            {
                await _table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                deleted++;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                // gone already
            }
        }

        return deleted;
    }

    /// <summary>The partition and row of a nonce.</summary>
    public static (string Partition, string Row) KeyOf(string callerPseudonym, string keyId, string nonce)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(callerPseudonym + "\n" + keyId + "\n" + nonce)));
        return (hash[..2], hash[2..]);
    }

    private async Task AddAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // The table is created at start; this covers a table deleted since, or a request before the start-up finished.
            await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> TryAddAsync(TableEntity entity, CancellationToken cancellationToken)
    {
        try
        {
            await _table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }
}
