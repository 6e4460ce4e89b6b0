using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace ServerlessServe.Core.Artifacts.Lifecycle;

/// <summary>
/// Lifecycle documents and revocation lists in the models container, each a write-once pair
/// <c>{prefix}{sequence:D12}.sig</c> then <c>{prefix}{sequence:D12}.json</c> (<c>If-None-Match: *</c>): a document exists
/// once its <c>.json</c> does. Prefixes: <c>lifecycle/{name}/</c> and <c>revocations/</c>. Reading verifies the detached
/// signature (as <c>manifest.sig</c>: ECDSA P-256 over the exact bytes) against the trusted signers, refuses a signer the
/// revocation list in force revokes, then parses strictly and checks the document names where it is stored.
/// </summary>
public sealed class ControlStore
{
    public const string LifecycleRoot = "lifecycle/";

    public const string RevocationsPrefix = "revocations/";

    private const string JsonSuffix = ".json";

    private const string SignatureSuffix = ".sig";

    private const int SequenceDigits = 12;

    private readonly BlobContainerClient _container;
    private readonly TrustedSigners _trusted;

    public ControlStore(BlobContainerClient container, TrustedSigners trusted)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        _trusted = trusted ?? throw new ArgumentNullException(nameof(trusted));
    }

    public static string LifecyclePrefix(string name) => $"{LifecycleRoot}{name}/";

    public static string DocumentPath(string prefix, long sequence) => prefix + sequence.ToString("D12", CultureInfo.InvariantCulture) + JsonSuffix;

    public static string SignaturePath(string prefix, long sequence) => prefix + sequence.ToString("D12", CultureInfo.InvariantCulture) + SignatureSuffix;

    /// <summary>
    /// Every document stored under <paramref name="prefix"/>: the sequences with a <c>.json</c>, per first path segment
    /// below the prefix when <paramref name="perName"/> (the model names of <c>lifecycle/</c>), else under the empty key;
    /// and every sequence with either file (the next document takes the lowest free one above the highest that verifies:
    /// <see cref="NextSequenceAsync"/>). A missing container is empty.
    /// </summary>
    public async Task<ControlListing> ListAsync(string prefix, bool perName, CancellationToken cancellationToken)
    {
        var documents = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        var taken = new Dictionary<string, HashSet<long>>(StringComparer.Ordinal);
        try
        {
            await foreach (var blob in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix: prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var rest = blob.Name.AsSpan(prefix.Length);
                var key = string.Empty;
                if (perName)
                {
                    var slash = rest.IndexOf('/');
                    if (slash <= 0)
                    {
                        continue;
                    }

                    key = rest[..slash].ToString();
                    rest = rest[(slash + 1)..];
                    if (!ModelNames.IsValidName(key))
                    {
                        continue;
                    }
                }

                var isJson = rest.EndsWith(JsonSuffix, StringComparison.Ordinal);
                var stem = isJson ? rest[..^JsonSuffix.Length] : rest.EndsWith(SignatureSuffix, StringComparison.Ordinal) ? rest[..^SignatureSuffix.Length] : [];
                if (stem.Length != SequenceDigits || !long.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) || sequence < 1)
                {
                    continue;
                }

                (taken.TryGetValue(key, out var set) ? set : taken[key] = []).Add(sequence);
                if (isJson)
                {
                    (documents.TryGetValue(key, out var list) ? list : documents[key] = []).Add(sequence);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // No container yet: nothing published.
        }

        return new ControlListing(
            documents.ToDictionary(d => d.Key, d => (IReadOnlyList<long>)[.. d.Value.OrderDescending()], StringComparer.Ordinal),
            taken.ToDictionary(t => t.Key, t => (IReadOnlySet<long>)t.Value, StringComparer.Ordinal));
    }

    /// <summary>
    /// Reads and verifies the lifecycle document <paramref name="sequence"/> of <paramref name="name"/>. Throws
    /// <see cref="ControlDocumentException"/> when it does not verify (or is gone), and the storage client's exception
    /// when the store cannot be reached.
    /// </summary>
    public async Task<ModelLifecycle> ReadLifecycleAsync(string name, long sequence, RevocationList inForce, CancellationToken cancellationToken)
    {
        ModelNames.EnsureValidName(name);
        var (bytes, keyId) = await ReadTrustedAsync(LifecyclePrefix(name), sequence, cancellationToken).ConfigureAwait(false);
        var lifecycle = ControlJson.ParseLifecycle(bytes);
        if (lifecycle.Name != name || lifecycle.Sequence != sequence)
        {
            throw new ControlDocumentException("lifecycle document's name or sequence differs from where it is stored");
        }

        if (lifecycle.SignerKeyId != keyId)
        {
            throw new ControlDocumentException("lifecycle document names a different signer than the key that verifies it");
        }

        // Checked last, so that a document refused as signed by a revoked key is otherwise whole: the caller may take it
        // as the model's document withdrawn (ServingControl), not as noise to skip.
        return inForce.RevokesSigner(keyId) ? throw new ControlDocumentException("signed by a revoked key", ControlDocumentProblem.SignerRevoked) : lifecycle;
    }

    /// <summary>Reads and verifies the revocation list <paramref name="sequence"/>, as <see cref="ReadLifecycleAsync"/> does.</summary>
    public async Task<RevocationList> ReadRevocationsAsync(long sequence, RevocationList inForce, CancellationToken cancellationToken)
    {
        var (bytes, keyId) = await ReadSignedAsync(RevocationsPrefix, sequence, inForce, cancellationToken).ConfigureAwait(false);
        var revocations = ControlJson.ParseRevocations(bytes);
        if (revocations.Sequence != sequence)
        {
            throw new ControlDocumentException("revocation list's sequence differs from where it is stored");
        }

        if (revocations.SignerKeyId != keyId)
        {
            throw new ControlDocumentException("revocation list names a different signer than the key that verifies it");
        }

        // Signing keys stay revoked: a list that drops one the list in force revokes is refused.
        return inForce.Signers.All(revocations.RevokesSigner) ? revocations : throw new ControlDocumentException("revocation list drops a revoked signer", ControlDocumentProblem.DropsRevokedSigner);
    }

    /// <summary>
    /// The revocation list in force: every stored list in ascending sequence, each checked against the last one accepted
    /// (its signer not revoked, every revoked signer kept), the last accepted winning; <see cref="RevocationList.None"/>
    /// when none. <paramref name="from"/> is the list already in force (only higher sequences are read).
    /// </summary>
    public async Task<RevocationList> LatestRevocationsAsync(RevocationList from, CancellationToken cancellationToken, Action<long, ControlDocumentException>? refused = null)
    {
        ArgumentNullException.ThrowIfNull(from);
        var listing = await ListAsync(RevocationsPrefix, perName: false, cancellationToken).ConfigureAwait(false);
        return await AcceptRevocationsAsync(listing, from, cancellationToken, refused).ConfigureAwait(false);
    }

    /// <summary>
    /// The revocation list in force, and the highest stored list above it that no trusted key verifies (0: none): one
    /// that may revoke what a publisher or a check is about to rely on (a list signed by another trusted key).
    /// </summary>
    public async Task<(RevocationList List, long NewerUnverified)> RevocationsInForceAsync(CancellationToken cancellationToken)
    {
        var unverified = 0L;
        var list = await LatestRevocationsAsync(RevocationList.None, cancellationToken, (sequence, ex) =>
        {
            if (ex.Problem == ControlDocumentProblem.UntrustedSignature)
            {
                unverified = Math.Max(unverified, sequence);
            }
        }).ConfigureAwait(false);
        return (list, unverified > list.Sequence ? unverified : 0);
    }

    /// <summary><see cref="LatestRevocationsAsync"/> over a listing of <see cref="RevocationsPrefix"/> already made.</summary>
    public async Task<RevocationList> AcceptRevocationsAsync(ControlListing listing, RevocationList from, CancellationToken cancellationToken, Action<long, ControlDocumentException>? refused = null)
    {
        ArgumentNullException.ThrowIfNull(listing);
        ArgumentNullException.ThrowIfNull(from);
        var inForce = from;
        foreach (var sequence in listing.Sequences(string.Empty).Reverse())
        {
            if (sequence <= inForce.Sequence)
            {
                continue;
            }

            try
            {
                inForce = await ReadRevocationsAsync(sequence, inForce, cancellationToken).ConfigureAwait(false);
            }
            catch (ControlDocumentException ex)
            {
                refused?.Invoke(sequence, ex);
            }
        }

        return inForce;
    }

    /// <summary>
    /// What a freshly started instance holds for <paramref name="name"/> (<see cref="ServingControl"/>): the highest
    /// document that verifies; or, when the highest one a trusted key verifies is signed by a key
    /// <paramref name="inForce"/> revokes, the model withdrawn at that sequence (<see cref="LifecycleEntry.Withdrawn"/>:
    /// no version serves until a higher document by a good key is published); null when there is no document.
    /// </summary>
    public async Task<LifecycleEntry?> LifecycleInForceAsync(string name, RevocationList inForce, CancellationToken cancellationToken)
    {
        ModelNames.EnsureValidName(name);
        ArgumentNullException.ThrowIfNull(inForce);
        var listing = await ListAsync(LifecyclePrefix(name), perName: false, cancellationToken).ConfigureAwait(false);
        foreach (var sequence in listing.Sequences(string.Empty))
        {
            try
            {
                return new LifecycleEntry(await ReadLifecycleAsync(name, sequence, inForce, cancellationToken).ConfigureAwait(false), sequence);
            }
            catch (ControlDocumentException ex) when (ex.Problem == ControlDocumentProblem.SignerRevoked)
            {
                return new LifecycleEntry(null, sequence);
            }
            catch (ControlDocumentException)
            {
                // Not valid: the next lower one.
            }
        }

        return null;
    }

    /// <summary>
    /// The highest lifecycle document of <paramref name="name"/> that verifies with a key not revoked; null when none.
    /// The base the next document is edited from (<see cref="ControlPublisher"/>); what serves is
    /// <see cref="LifecycleInForceAsync"/>. <paramref name="refused"/> hears of each higher document skipped, and why.
    /// </summary>
    public async Task<ModelLifecycle?> LatestLifecycleAsync(string name, RevocationList inForce, CancellationToken cancellationToken, Action<long, ControlDocumentException>? refused = null)
    {
        ModelNames.EnsureValidName(name);
        var listing = await ListAsync(LifecyclePrefix(name), perName: false, cancellationToken).ConfigureAwait(false);
        foreach (var sequence in listing.Sequences(string.Empty))
        {
            try
            {
                return await ReadLifecycleAsync(name, sequence, inForce, cancellationToken).ConfigureAwait(false);
            }
            catch (ControlDocumentException ex)
            {
                // Not valid: the next lower one.
                refused?.Invoke(sequence, ex);
            }
        }

        return null;
    }

    /// <summary>
    /// The sequence the next document under <paramref name="prefix"/> must have: the lowest above the highest document a
    /// trusted key verifies (revoked or not: a revoked signer's lifecycle document withdraws the model until a higher
    /// one) that no file holds. Files that do not verify use up no sequence, only their own names: before 2026-12-07 the
    /// next was one above any stored file, so one blob planted as <c>999999999999.sig</c> by whoever could write the
    /// container (no key needed) stopped every later revocation list or lifecycle document for good, the container
    /// being write-once (found in review).
    /// </summary>
    public async Task<long> NextSequenceAsync(string prefix, CancellationToken cancellationToken)
    {
        var listing = await ListAsync(prefix, perName: false, cancellationToken).ConfigureAwait(false);
        var inForce = prefix == RevocationsPrefix ? await LatestRevocationsAsync(RevocationList.None, cancellationToken).ConfigureAwait(false) : null;
        var next = await HighestSignedAsync(prefix, listing, inForce, cancellationToken).ConfigureAwait(false) + 1;
        while (listing.IsTaken(string.Empty, next))
        {
            next++;
        }

        return next;
    }

    // The highest sequence under prefix holding a document of its own: one a trusted key verifies, that parses, and that
    // names this sequence (and for a lifecycle, this model); 0 when none. A signed document copied to another name
    // verifies too: counted, a copy of revocation list 1 at 999999999999 blocked publishing as a planted file did. A
    // revocation list signed by a key the list in force revokes does not count either: a compromised key, once revoked,
    // could otherwise sign one at 999999999999 and stop every later list (both found in review 2026-12-07). A revoked
    // key's lifecycle document still counts, as it withdraws the model (LifecycleInForceAsync). Every document above the
    // latest is read, however many: files that do not verify hold only their own names (as a refresh reads them all).
    // inForce: the revocation list in force (read once by the caller; needed for the revocations prefix only).
    private async Task<long> HighestSignedAsync(string prefix, ControlListing listing, RevocationList? inForce, CancellationToken cancellationToken)
    {
        var revoked = prefix == RevocationsPrefix ? inForce : null;
        foreach (var sequence in listing.Sequences(string.Empty))
        {
            try
            {
                var (json, keyId) = await ReadTrustedAsync(prefix, sequence, cancellationToken).ConfigureAwait(false);
                var (parsedSequence, parsedPrefix) = prefix == RevocationsPrefix
                    ? (ControlJson.ParseRevocations(json).Sequence, RevocationsPrefix)
                    : ControlJson.ParseLifecycle(json) is var lifecycle ? (lifecycle.Sequence, LifecyclePrefix(lifecycle.Name)) : default;
                if (parsedSequence == sequence && parsedPrefix == prefix && (revoked is null || revoked.Sequence >= sequence || !revoked.RevokesSigner(keyId)))
                {
                    return sequence;
                }
            }
            catch (ControlDocumentException)
            {
                // Does not verify (or is malformed, or too large): it holds its name and nothing more.
            }
        }

        return 0;
    }

    /// <summary>Signs and publishes <paramref name="lifecycle"/>; checked as <see cref="PublishSignedAsync"/> checks it.</summary>
    public Task PublishAsync(ModelLifecycle lifecycle, ECDsa signer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        ArgumentNullException.ThrowIfNull(signer);
        var bytes = ControlJson.Serialize(lifecycle);
        return PublishSignedAsync(LifecyclePrefix(lifecycle.Name), lifecycle.Sequence, bytes, ManifestSignature.Sign(bytes, signer), cancellationToken);
    }

    /// <summary>Signs and publishes <paramref name="revocations"/>; checked as <see cref="PublishSignedAsync"/> checks it.</summary>
    public Task PublishAsync(RevocationList revocations, ECDsa signer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(revocations);
        ArgumentNullException.ThrowIfNull(signer);
        var bytes = ControlJson.Serialize(revocations);
        return PublishSignedAsync(RevocationsPrefix, revocations.Sequence, bytes, ManifestSignature.Sign(bytes, signer), cancellationToken);
    }

    /// <summary>
    /// Publishes a document already signed elsewhere (the admin plane holds no signing key), checked as every instance
    /// will check it, so that what is stored takes effect: the signature must verify with a trusted key that the
    /// revocation list in force does not revoke, the document must parse and name <paramref name="prefix"/>'s model (for
    /// a lifecycle), a revocation list must keep every signer the list in force revokes, and its sequence must be one
    /// above every stored one (a sequence that skipped ahead could be set so high that no document could follow it, and
    /// the container is write-once). Throws <see cref="ControlDocumentException"/> otherwise, including when another
    /// publisher took the sequence first.
    /// </summary>
    /// <returns>True when this very document was already stored whole (a retry of a publish that completed): nothing was written.</returns>
    public async Task<bool> PublishSignedAsync(string prefix, long sequence, byte[] json, string signature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(signature);
        var signatureBytes = Encoding.ASCII.GetBytes(signature);
        var keyId = ManifestSignature.Verify(json, signatureBytes, _trusted) ?? throw new ControlDocumentException("no trusted key verifies the signature");
        var (parsedSequence, parsedSigner) = prefix == RevocationsPrefix
            ? ControlJson.ParseRevocations(json) is var r ? (r.Sequence, r.SignerKeyId) : default
            : ControlJson.ParseLifecycle(json) is var l && LifecyclePrefix(l.Name) == prefix ? (l.Sequence, l.SignerKeyId) : throw new ControlDocumentException("lifecycle document is for another model");
        if (parsedSequence != sequence || parsedSigner != keyId)
        {
            throw new ControlDocumentException("document's sequence or signer differs");
        }

        // The sequence must be the next (NextSequenceAsync): the lowest above the highest verified document whose name
        // no file holds, or whose only file is this document's own signature (a publish that failed between its two
        // blobs, completed now).
        var listing = await ListAsync(prefix, perName: false, cancellationToken).ConfigureAwait(false);
        var inForce = await LatestRevocationsAsync(RevocationList.None, cancellationToken).ConfigureAwait(false);
        var highest = await HighestSignedAsync(prefix, listing, inForce, cancellationToken).ConfigureAwait(false);
        if (sequence == highest)
        {
            // The same document sent again (a retry after an answer that was lost): done when it is stored whole and
            // nothing was stored above it since (a higher document deleted but for its signature is a rollback, refused).
            var stored = listing.Taken.GetValueOrDefault(string.Empty)?.Any(t => t > sequence) == true
                ? null
                : await DownloadAsync(DocumentPath(prefix, sequence), ControlJson.MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
            return stored is not null && stored.AsSpan().SequenceEqual(json)
                ? true
                : throw new ControlDocumentException("a document with this sequence or a higher one is already stored", ControlDocumentProblem.SequenceTaken);
        }

        if (sequence < highest)
        {
            throw new ControlDocumentException("a document with this sequence or a higher one is already stored", ControlDocumentProblem.SequenceTaken);
        }

        // Every name between must be held (by files that do not verify); more names than files cannot all be.
        if (sequence - highest - 1 > listing.TakenCount(string.Empty) || Enumerable.Range(1, (int)(sequence - highest - 1)).Any(i => !listing.IsTaken(string.Empty, highest + i)))
        {
            throw new ControlDocumentException("the sequence must be one above the latest stored document", ControlDocumentProblem.SequenceSkipsAhead);
        }

        if (listing.IsTaken(string.Empty, sequence)
            && (listing.Sequences(string.Empty).Contains(sequence) || !await SignsAsync(SignaturePath(prefix, sequence), json, cancellationToken).ConfigureAwait(false)))
        {
            throw new ControlDocumentException("a file that does not verify holds this sequence; publish at the next one", ControlDocumentProblem.SequenceTaken);
        }

        // Completing this document's own half-written publish only while nothing was started above it: a publisher that
        // took the next name meanwhile edited from the document below this one, and this one completed first would be
        // undone by it (found in review 2026-12-07).
        if (listing.IsTaken(string.Empty, sequence) && listing.Taken[string.Empty].Any(t => t > sequence))
        {
            throw new ControlDocumentException("a document with this sequence or a higher one is already stored", ControlDocumentProblem.SequenceTaken);
        }

        if (inForce.RevokesSigner(keyId))
        {
            throw new ControlDocumentException("signed by a revoked key", ControlDocumentProblem.SignerRevoked);
        }

        if (prefix == RevocationsPrefix && !inForce.Signers.All(ControlJson.ParseRevocations(json).RevokesSigner))
        {
            throw new ControlDocumentException("revocation list drops a revoked signer", ControlDocumentProblem.DropsRevokedSigner);
        }

        // Each blob is written only if absent; one already there with these very bytes is this publish's own (the storage
        // client retries a write whose answer was lost, and the retry finds the first write's blob). Before 2026-12-07
        // that read as a rival's: a revocation list or lifecycle stored and in force was answered 400 and audited as
        // refused, and a retry after a failure between the two blobs was refused for ever (found in review).
        await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!(await TryCreateAsync(SignaturePath(prefix, sequence), signatureBytes, "text/plain", cancellationToken).ConfigureAwait(false)
                || await SignsAsync(SignaturePath(prefix, sequence), json, cancellationToken).ConfigureAwait(false))
            || !(await TryCreateAsync(DocumentPath(prefix, sequence), json, "application/json", cancellationToken).ConfigureAwait(false)
                || await SameAsync(DocumentPath(prefix, sequence), json, ControlJson.MaxDocumentBytes, cancellationToken).ConfigureAwait(false)))
        {
            throw new ControlDocumentException("another publisher took this sequence; read the latest and publish again", ControlDocumentProblem.SequenceTaken);
        }

        return false;
    }

    // Whether the signature stored at path is a trusted signature of json (ECDSA signs afresh each time: a document
    // signed again for a retry has other signature bytes).
    private async Task<bool> SignsAsync(string path, byte[] json, CancellationToken cancellationToken) =>
        await DownloadAsync(path, ManifestSignature.MaxSignatureBytes, cancellationToken).ConfigureAwait(false) is { } stored
        && ManifestSignature.Verify(json, stored, _trusted) is not null;

    private async Task<bool> SameAsync(string path, byte[] content, int maxBytes, CancellationToken cancellationToken) =>
        await DownloadAsync(path, maxBytes, cancellationToken).ConfigureAwait(false) is { } stored && stored.AsSpan().SequenceEqual(content);

    private async Task<(byte[] Json, string KeyId)> ReadSignedAsync(string prefix, long sequence, RevocationList inForce, CancellationToken cancellationToken)
    {
        var (json, keyId) = await ReadTrustedAsync(prefix, sequence, cancellationToken).ConfigureAwait(false);
        return inForce.RevokesSigner(keyId) ? throw new ControlDocumentException("signed by a revoked key", ControlDocumentProblem.SignerRevoked) : (json, keyId);
    }

    // The document and the trusted key that verifies it, revoked or not.
    private async Task<(byte[] Json, string KeyId)> ReadTrustedAsync(string prefix, long sequence, CancellationToken cancellationToken)
    {
        var json = await DownloadAsync(DocumentPath(prefix, sequence), ControlJson.MaxDocumentBytes, cancellationToken).ConfigureAwait(false)
            ?? throw new ControlDocumentException("document is missing");
        var signature = await DownloadAsync(SignaturePath(prefix, sequence), ManifestSignature.MaxSignatureBytes, cancellationToken).ConfigureAwait(false)
            ?? throw new ControlDocumentException("signature is missing");
        var keyId = ManifestSignature.Verify(json, signature, _trusted) ?? throw new ControlDocumentException("no trusted key verifies the signature", ControlDocumentProblem.UntrustedSignature);
        return (json, keyId);
    }

    private async Task<byte[]?> DownloadAsync(string path, int maxBytes, CancellationToken cancellationToken)
    {
        try
        {
            // At most one byte past the limit is fetched: a planted document of gigabytes (whoever may write the
            // container, or Azurite, which has no write-once lock) costs each instance a few kilobytes per refresh,
            // never its memory (before 2026-12-06 it was downloaded whole, every refresh, before its size was checked).
            using var result = (await _container.GetBlobClient(path).DownloadStreamingAsync(
                new BlobDownloadOptions { Range = new HttpRange(0, maxBytes + 1L) },
                cancellationToken).ConfigureAwait(false)).Value;
            using var buffer = new MemoryStream();
            await result.Content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            return buffer.Length > maxBytes || (result.Details.ContentRange is { } range && TotalLength(range) > maxBytes)
                ? throw new ControlDocumentException("document is larger than allowed")
                : buffer.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            // An empty blob: storage answers a range read of one with 416 (InvalidRange). It is an empty document, which
            // no signature verifies, so it is refused and passed over like any other malformed one. Thrown on, it
            // failed every refresh on every instance, and every publish after it, for good under the write-once
            // policy (review, 2026-12-07).
            return [];
        }
    }

    // The blob's whole length from a Content-Range ("bytes 0-1024/5000000"); 0 when it does not say.
    private static long TotalLength(string contentRange) =>
        contentRange.LastIndexOf('/') is var slash and >= 0 && long.TryParse(contentRange.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var total) ? total : 0;

    private async Task<bool> TryCreateAsync(string path, byte[] content, string contentType, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(path).UploadAsync(
                BinaryData.FromBytes(content),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
                },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }
}
