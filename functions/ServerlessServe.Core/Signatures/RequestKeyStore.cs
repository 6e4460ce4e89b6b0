using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;

namespace ServerlessServe.Core.Signatures;

/// <summary>
/// The request-signing key registry, an Azure table shared by every gateway instance and the admin plane: partition key
/// = the caller's pseudonym (<see cref="Audit.CallerPseudonymizer"/> of the token subject), row key = the key id; the
/// public key as SPKI DER (P-256 only), when it was registered and when it expires. Registering replaces a key of the
/// same caller and id; revoking deletes it. Gateways see either within <see cref="SignatureOptions.KeyRefreshInterval"/>.
/// </summary>
public sealed class RequestKeyStore
{
    private readonly TableClient _table;

    public RequestKeyStore(TableClient table) => _table = table ?? throw new ArgumentNullException(nameof(table));

    /// <summary>The table's name.</summary>
    public string TableName => _table.Name;

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Binds <paramref name="spki"/> (an ECDSA P-256 public key, SubjectPublicKeyInfo DER) to the caller with pseudonym
    /// <paramref name="callerPseudonym"/> under <paramref name="keyId"/>, until <paramref name="expires"/> (null: until
    /// revoked). Throws <see cref="ArgumentException"/> for a key that is not P-256, a malformed pseudonym or key id.
    /// </summary>
    public async Task<RequestKey> RegisterAsync(string callerPseudonym, string keyId, byte[] spki, DateTimeOffset? expires, CancellationToken cancellationToken = default)
    {
        CheckPseudonym(callerPseudonym);
        CheckKeyId(keyId);
        ArgumentNullException.ThrowIfNull(spki);
        using (var key = ImportKey(spki))
        {
            if (key is null)
            {
                throw new ArgumentException("The key is not an ECDSA P-256 public key (SubjectPublicKeyInfo).", nameof(spki));
            }
        }

        var entry = new RequestKey(callerPseudonym, keyId, spki, DateTimeOffset.UtcNow, expires);
        var entity = new TableEntity(callerPseudonym, keyId)
        {
            ["Spki"] = spki,
            ["Created"] = entry.Created,
            ["Expires"] = expires,
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        return entry;
    }

    /// <summary>Removes the key; false when there was none.</summary>
    public async Task<bool> RevokeAsync(string callerPseudonym, string keyId, CancellationToken cancellationToken = default)
    {
        CheckPseudonym(callerPseudonym);
        CheckKeyId(keyId);
        try
        {
            var response = await _table.DeleteEntityAsync(callerPseudonym, keyId, ETag.All, cancellationToken).ConfigureAwait(false);
            return response.Status != 404;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
    }

    /// <summary>The key, or null when the caller has none with that id (expired ones included: <see cref="RequestKey.InForce"/> tells).</summary>
    public async Task<RequestKey?> GetAsync(string callerPseudonym, string keyId, CancellationToken cancellationToken = default)
    {
        CheckPseudonym(callerPseudonym);
        CheckKeyId(keyId);
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(callerPseudonym, keyId, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? FromEntity(response.Value!) : null;
    }

    /// <summary>Every key, or one caller's keys.</summary>
    public async Task<IReadOnlyList<RequestKey>> ListAsync(string? callerPseudonym = null, CancellationToken cancellationToken = default)
    {
        if (callerPseudonym is not null)
        {
            CheckPseudonym(callerPseudonym);
        }

        var keys = new List<RequestKey>();
        var query = callerPseudonym is null
            ? _table.QueryAsync<TableEntity>(cancellationToken: cancellationToken)
            : _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {callerPseudonym}"), cancellationToken: cancellationToken);
        await foreach (var entity in query.ConfigureAwait(false))
        {
            if (FromEntity(entity) is { } key)
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    /// <summary>The key in <paramref name="spki"/> when it is an ECDSA P-256 public key; otherwise null.</summary>
    public static ECDsa? ImportKey(byte[] spki)
    {
        ArgumentNullException.ThrowIfNull(spki);
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out var read);
            // A key with explicit curve parameters has no OID: not P-256 by name, so no key (before 2026-12-07 reading
            // its OID threw, found in review).
            var curve = key.ExportParameters(false).Curve;
            if (read == spki.Length && curve.IsNamed && curve.Oid?.Value == ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                return key;
            }
        }
        catch (CryptographicException)
        {
            // not a key
        }

        key.Dispose();
        return null;
    }

    // A row whose properties have the wrong types (written by hand, or by something else) is no key: skipped, so that
    // one bad row cannot make every read of the table throw and freeze every instance's view of the keys.
    private static RequestKey? FromEntity(TableEntity entity)
    {
        try
        {
            return entity.GetBinary("Spki") is { } spki
                ? new RequestKey(entity.PartitionKey, entity.RowKey, spki, entity.GetDateTimeOffset("Created") ?? entity.Timestamp ?? DateTimeOffset.MinValue, entity.GetDateTimeOffset("Expires"))
                : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static void CheckPseudonym(string callerPseudonym)
    {
        if (callerPseudonym is not { Length: > 0 and <= 64 } || !callerPseudonym.All(char.IsAsciiHexDigitLower))
        {
            throw new ArgumentException("A caller pseudonym is lower-case hex.", nameof(callerPseudonym));
        }
    }

    private static void CheckKeyId(string keyId)
    {
        if (!SignatureHeaders.IsValidKeyId(keyId))
        {
            throw new ArgumentException("A key id is 1-64 characters of A-Z a-z 0-9 . _ : -", nameof(keyId));
        }
    }
}
