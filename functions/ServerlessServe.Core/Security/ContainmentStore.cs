using Azure;
using Azure.Data.Tables;

namespace ServerlessServe.Core.Security;

/// <summary>
/// The containment table: every throttle, block, quarantine and revocation in force, shared by all instances. One entity
/// per containment: partition key = the kind (<c>throttle</c>, <c>block</c>, <c>quarantine</c>, <c>revoked-token</c>,
/// <c>revoked-caller</c>, <c>revoked-signer</c>), row key = the subject (caller pseudonym, token id, signing key id, or
/// <c>{model}/{version}</c> with <c>/</c> written as <c>~</c>, which table keys do not allow).
/// Setting one replaces any earlier one of the same kind and subject: the latest decision wins.
/// </summary>
public sealed class ContainmentStore
{
    private readonly TableClient _table;

    public ContainmentStore(TableClient table) => _table = table ?? throw new ArgumentNullException(nameof(table));

    /// <summary>The table's name.</summary>
    public string TableName => _table.Name;

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Sets <paramref name="entry"/>, replacing one of the same kind and subject.</summary>
    public async Task SetAsync(ContainmentEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await _table.UpsertEntityAsync(EntityOf(entry), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    private static TableEntity EntityOf(ContainmentEntry entry) => new(PartitionOf(entry.Kind), RowKeyOf(entry.Subject))
    {
        ["Until"] = entry.Until,
        ["RequestsPerMinute"] = entry.RequestsPerMinute,
        ["Reason"] = entry.Reason,
        ["EventId"] = entry.EventId,
        ["Created"] = entry.Created,
    };

    private static ContainmentEntry EntryOf(ContainmentKind kind, TableEntity entity) => new(
        kind,
        entity.RowKey.Replace('~', '/'),
        entity.GetDateTimeOffset("Until"),
        entity.GetInt32("RequestsPerMinute"),
        entity.GetString("Reason") ?? ContainmentEntry.OperatorReason,
        entity.GetString("EventId"),
        entity.GetDateTimeOffset("Created") ?? entity.Timestamp ?? DateTimeOffset.MinValue);

    /// <summary>
    /// Sets the automatic decision <paramref name="entry"/> no weaker than what the table holds for its kind and subject
    /// (<see cref="ContainmentEntry.Strengthen"/>): read, combined, written only if the row is still the one read
    /// (<c>If-Match</c>; an insert only if there is none), tried again when another writer came first, so an operator's
    /// entry set meanwhile is combined too, never overwritten. Returns the entry in force after it.
    /// </summary>
    public async Task<ContainmentEntry> StrengthenAsync(ContainmentEntry entry, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var partition = PartitionOf(entry.Kind);
        var row = RowKeyOf(entry.Subject);
        for (var attempt = 1; ; attempt++)
        {
            var existing = await _table.GetEntityIfExistsAsync<TableEntity>(partition, row, cancellationToken: cancellationToken).ConfigureAwait(false);
            try
            {
                if (!existing.HasValue || existing.Value is not { } found)
                {
                    await _table.AddEntityAsync(EntityOf(entry), cancellationToken).ConfigureAwait(false);
                    return entry;
                }

                var current = EntryOf(entry.Kind, found);
                if (ContainmentEntry.Strengthen(current, entry, now) is not { } combined)
                {
                    return current;
                }

                await _table.UpdateEntityAsync(EntityOf(combined), found.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                return combined;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412 && attempt < 8)
            {
                // Another instance or an operator wrote (or lifted) this row between the read and the write: read it again.
            }
        }
    }

    /// <summary>Lifts the containment of <paramref name="kind"/> on <paramref name="subject"/>; false when none was set.</summary>
    public async Task<bool> LiftAsync(ContainmentKind kind, string subject, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        try
        {
            var response = await _table.DeleteEntityAsync(PartitionOf(kind), RowKeyOf(subject), ETag.All, cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    /// <summary>Every entry in the table, expired ones included (<see cref="ContainmentEntry.InForce"/> tells).</summary>
    public async Task<IReadOnlyList<ContainmentEntry>> ListAsync(CancellationToken cancellationToken = default)
    {
        var entries = new List<ContainmentEntry>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (KindOf(entity.PartitionKey) is not { } kind)
            {
                continue;
            }

            entries.Add(EntryOf(kind, entity));
        }

        return entries;
    }

    /// <summary>The partition of <paramref name="kind"/>'s entries.</summary>
    public static string PartitionOf(ContainmentKind kind) => kind switch
    {
        ContainmentKind.Throttle => "throttle",
        ContainmentKind.Block => "block",
        ContainmentKind.Quarantine => "quarantine",
        ContainmentKind.RevokeToken => "revoked-token",
        ContainmentKind.RevokeCaller => "revoked-caller",
        ContainmentKind.RevokeSigner => "revoked-signer",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Kind none is never stored."),
    };

    private static ContainmentKind? KindOf(string partition) => partition switch
    {
        "throttle" => ContainmentKind.Throttle,
        "block" => ContainmentKind.Block,
        "quarantine" => ContainmentKind.Quarantine,
        "revoked-token" => ContainmentKind.RevokeToken,
        "revoked-caller" => ContainmentKind.RevokeCaller,
        "revoked-signer" => ContainmentKind.RevokeSigner,
        _ => null,
    };

    private static string RowKeyOf(string subject)
    {
        foreach (var c in subject)
        {
            if (c is '\\' or '#' or '?' or '~' || char.IsControl(c))
            {
                throw new ArgumentException("A containment subject is a pseudonym, a token or key id, or model/version.", nameof(subject));
            }
        }

        return subject.Replace('/', '~');
    }
}
