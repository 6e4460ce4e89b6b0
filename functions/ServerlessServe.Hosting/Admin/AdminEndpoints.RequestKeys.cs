using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using ServerlessServe.Core.Admin;
using ServerlessServe.Core.Pipeline;
using ServerlessServe.Core.Protocol;
using ServerlessServe.Core.Signatures;
using ServerlessServe.Hosting.Http;

namespace ServerlessServe.Hosting.Admin;

/// <summary>The admin plane's request-signing keys: callers' public keys for signed requests (docs/identity.md, "Signed requests").</summary>
public sealed partial class AdminEndpoints
{
    private static readonly Refusal BadRequestKey = Refusal.Invalid(
        "give exactly one of subject and pseudonym (32 lower-case hex), a keyId (1-64 of A-Z a-z 0-9 . _ : -), a P-256 publicKey in PEM, and optionally expires (an ISO 8601 time in the future)");

    private int _requestKeyTableReady;

    /// <summary>
    /// Registers a caller's request-signing key (body: <c>{"subject"|"pseudonym": ..., "keyId": ..., "publicKey": "-----BEGIN
    /// PUBLIC KEY-----...", "expires": "..."}</c>), replacing one of the same id. Gateways use it within their key
    /// refresh (a new key id at once, through their on-demand read).
    /// </summary>
    public async Task<IActionResult> RegisterRequestKeyAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.RegisterRequestKey).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        var (read, unreadKey) = await ReadRequestKeyAsync(request).ConfigureAwait(false);
        if (read is not { } key)
        {
            return await RefuseAsync(admin, unreadKey ?? BadRequestKey).ConfigureAwait(false);
        }

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["caller"] = key.Pseudonym,
            ["keyId"] = key.KeyId,
            ["keySha256"] = Convert.ToHexStringLower(SHA256.HashData(key.Spki)),
        };
        if (key.Expires is { } expires)
        {
            evidence["expires"] = expires.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        }

        return await RequestKeyChangeAsync(admin with { Target = evidence }, key.Pseudonym, key.KeyId, async () =>
        {
            await EnsureRequestKeyTableAsync().ConfigureAwait(false);
            await _requestKeys.RegisterAsync(key.Pseudonym, key.KeyId, key.Spki, key.Expires, CancellationToken.None).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
    }

    /// <summary>Removes the request-signing key <paramref name="keyId"/> of the caller with pseudonym <paramref name="caller"/>.</summary>
    public async Task<IActionResult> RevokeRequestKeyAsync(HttpRequest request, string caller, string keyId)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (admin, refused) = await AdmitAsync(request, AdminActions.RevokeRequestKey).ConfigureAwait(false);
        if (admin is null)
        {
            return refused!;
        }

        if (!IsPseudonym(caller) || !SignatureHeaders.IsValidKeyId(keyId))
        {
            return await RefuseAsync(admin, BadRequestKey).ConfigureAwait(false);
        }

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal) { ["caller"] = caller, ["keyId"] = keyId };
        return await RequestKeyChangeAsync(admin with { Target = evidence }, caller, keyId, async () =>
        {
            await EnsureRequestKeyTableAsync().ConfigureAwait(false);
            return await _requestKeys.RevokeAsync(caller, keyId, CancellationToken.None).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>A key change: <c>requested</c> recorded first (else 503 and nothing done), then the change, then its result.</summary>
    private async Task<IActionResult> RequestKeyChangeAsync(AdminRequest admin, string pseudonym, string keyId, Func<Task<bool>> change)
    {
        if (!await _audit.TryRecordAsync(admin, AdminOutcomes.Requested).ConfigureAwait(false))
        {
            return Respond(admin.RequestId, AuditUnavailable);
        }

        bool changed;
        try
        {
            changed = await change().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsStorageFailure(ex))
        {
            return await FailedAsync(admin, ex).ConfigureAwait(false);
        }

        var body = AdminJson.RequestKey(admin.RequestId, admin.Action, pseudonym, keyId, changed);
        return await ReleaseAsync(admin, changed ? AdminOutcomes.Done : AdminOutcomes.NoChange, V2Results.JsonBody(body)).ConfigureAwait(false);
    }

    private async Task EnsureRequestKeyTableAsync()
    {
        if (Volatile.Read(ref _requestKeyTableReady) == 0)
        {
            await _requestKeys.CreateIfNotExistsAsync(CancellationToken.None).ConfigureAwait(false);
            Volatile.Write(ref _requestKeyTableReady, 1);
        }
    }

    // The registration, or the refusal of a body that could not be read (as ReadTargetAsync).
    private async Task<(RequestKeyRegistration? Key, Refusal? Unread)> ReadRequestKeyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        if (await ReadBoundedAsync(request, buffer, 8192, "body too large").ConfigureAwait(false) is { } unread)
        {
            return (null, unread);
        }

        string? subject = null, pseudonym = null, keyId = null, pem = null;
        DateTimeOffset? expires = null;
        try
        {
            var bytes = buffer.ToArray();

            // Names and strings are read below: an unpaired surrogate escape would throw there (JsonEscapes).
            if (!JsonEscapes.AreWellFormed(bytes, new JsonReaderOptions { MaxDepth = 2 }))
            {
                return (null, null);
            }

            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 2 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.String)
                {
                    return (null, null);
                }

                var value = property.Value.GetString();
                switch (property.Name)
                {
                    case "subject" when subject is null:
                        subject = value;
                        break;
                    case "pseudonym" when pseudonym is null:
                        pseudonym = value;
                        break;
                    case "keyId" when keyId is null:
                        keyId = value;
                        break;
                    case "publicKey" when pem is null:
                        pem = value;
                        break;
                    case "expires" when expires is null && TryParseTime(value!, out var parsed):
                        expires = parsed;
                        break;
                    default:
                        return (null, null);
                }
            }
        }
        catch (JsonException)
        {
            return (null, null);
        }

        if ((subject is null) == (pseudonym is null) || subject is { Length: 0 } || (pseudonym is not null && !IsPseudonym(pseudonym))
            || !SignatureHeaders.IsValidKeyId(keyId) || pem is null || (expires is { } e && e <= DateTimeOffset.UtcNow))
        {
            return (null, null);
        }

        byte[] spki;
        try
        {
            using var key = ECDsa.Create();
            key.ImportFromPem(pem);
            spki = key.ExportSubjectPublicKeyInfo();
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return (null, null);
        }

        using (var imported = RequestKeyStore.ImportKey(spki))
        {
            if (imported is null)
            {
                return (null, null);
            }
        }

        return (new RequestKeyRegistration(pseudonym ?? _pseudonymizer.Pseudonymize(subject), keyId!, spki, expires), null);
    }

    private sealed record RequestKeyRegistration(string Pseudonym, string KeyId, byte[] Spki, DateTimeOffset? Expires);
}
