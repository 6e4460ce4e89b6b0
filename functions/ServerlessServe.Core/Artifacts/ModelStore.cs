using System.Buffers;
using System.Security.Cryptography;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using ServerlessServe.Core.Defenses;
using ServerlessServe.Core.Policy;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Model versions in a blob container (layout: <see cref="ModelStoreLayout"/>). Publishing writes every blob once with
/// <c>If-None-Match: *</c> — content first, then <c>manifest.sig</c>, then <c>manifest.json</c> — so a version exists
/// only once complete and can never be replaced. Reading verifies in order: signature against the trusted keys →
/// manifest (name and version must match where it is stored) → file sizes and SHA-256 (streamed) → policy (schema and
/// fit with the manifest) → for model bytes, no external data and a graph that matches the manifest.
/// </summary>
public sealed class ModelStore
{
    private const int CopyBufferBytes = 81_920;

    private readonly BlobContainerClient _container;
    private readonly TrustedSigners _trustedSigners;
    private readonly ModelStoreOptions _options;
    private readonly ILogger _logger;

    public ModelStore(BlobContainerClient container, TrustedSigners trustedSigners, ModelStoreOptions options, ILogger<ModelStore> logger)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        _trustedSigners = trustedSigners ?? throw new ArgumentNullException(nameof(trustedSigners));
        _options = options ?? new ModelStoreOptions();
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
    }

    public BlobContainerClient Container => _container;

    /// <summary>The keys whose signatures this store accepts.</summary>
    public TrustedSigners TrustedSigners => _trustedSigners;

    /// <summary>Creates the container when it does not exist (standalone/Azurite; in Azure the Bicep templates create it).</summary>
    public Task CreateContainerIfNotExistsAsync(CancellationToken cancellationToken = default) =>
        _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <summary>
    /// Publishes <paramref name="package"/>. Content already stored is not uploaded again; an existing version is refused
    /// with <see cref="ModelVersionExistsException"/>. <paramref name="progress"/> receives the bytes of content done so far
    /// (out of <see cref="ModelPackage.ContentBytes"/>). Returns the manifest digest.
    /// </summary>
    public async Task<string> PublishAsync(ModelPackage package, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        var name = package.Manifest.Name;
        var version = package.Manifest.Version;
        ModelNames.EnsureValidName(name);
        ModelNames.EnsureValidVersion(version);

        var manifestBlob = _container.GetBlobClient(ModelStoreLayout.ManifestPath(name, version));
        if (await manifestBlob.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new ModelVersionExistsException(name, version, "model version already exists; versions are immutable");
        }

        long done = 0;
        foreach (var file in package.Files)
        {
            await UploadContentAsync(file, done, progress, cancellationToken).ConfigureAwait(false);
            done += file.Content.Length;
            progress?.Report(done);
        }

        // The manifest bytes are kept content-addressed before the signature is written, and the signature names
        // their digest: a publish interrupted between signature and manifest can then be completed by a retry.
        await TryCreateAsync(_container.GetBlobClient(ModelStoreLayout.ContentPath(package.ManifestDigest)), package.ManifestJson, "application/json", null, cancellationToken).ConfigureAwait(false);
        var signatureBytes = System.Text.Encoding.ASCII.GetBytes(package.Signature);
        var signatureBlob = _container.GetBlobClient(ModelStoreLayout.SignaturePath(name, version));
        var signatureMetadata = new Dictionary<string, string> { [ManifestDigestMetadata] = package.ManifestDigest };
        if (!await TryCreateAsync(signatureBlob, signatureBytes, "text/plain", signatureMetadata, cancellationToken).ConfigureAwait(false))
        {
            var completed = await TryCompleteEarlierPublishAsync(package, signatureBlob, manifestBlob, cancellationToken).ConfigureAwait(false)
                ?? throw new ModelVersionExistsException(name, version, "an incomplete earlier publish of this version holds other content; publish a new version");
            Log.Published(_logger, name, version, completed);
            return completed;
        }

        if (!await TryCreateAsync(manifestBlob, package.ManifestJson, "application/json", null, cancellationToken).ConfigureAwait(false)
            && !await HoldsAsync(manifestBlob, package, cancellationToken).ConfigureAwait(false))
        {
            throw new ModelVersionExistsException(name, version, "model version already exists; versions are immutable");
        }

        Log.Published(_logger, name, version, package.ManifestDigest);
        return package.ManifestDigest;
    }

    // Whether the manifest stored is exactly the one with this digest: a racing retry of the same publish completed it
    // between this publish's signature and its manifest (TryCompleteEarlierPublishAsync), which is this publish done,
    // not a version that already existed (found in review, 2026-12-06: the winner was answered 400 and audited refused).
    private static async Task<bool> HoldsAsync(BlobClient manifestBlob, ModelPackage package, CancellationToken cancellationToken)
    {
        // Read only when it is the same size: whatever else is stored there is never downloaded whole.
        if ((await manifestBlob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value.ContentLength != package.ManifestJson.Length)
        {
            return false;
        }

        var manifestDigest = package.ManifestDigest;
        var stored = (await manifestBlob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToArray();
        return CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(stored))),
            System.Text.Encoding.ASCII.GetBytes(manifestDigest));
    }

    /// <summary>The complete versions (manifest.json present) of <paramref name="name"/>, oldest first (<see cref="VersionComparer"/>).</summary>
    public async Task<IReadOnlyList<string>> ListVersionsAsync(string name, CancellationToken cancellationToken = default)
    {
        ModelNames.EnsureValidName(name);
        var prefix = ModelStoreLayout.VersionPrefix(name);
        var versions = new List<string>();
        await foreach (var blob in _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix: prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var rest = blob.Name.AsSpan(prefix.Length);
            var slash = rest.IndexOf('/');
            if (slash > 0 && rest[(slash + 1)..].SequenceEqual(ModelStoreLayout.ManifestFile))
            {
                var version = rest[..slash].ToString();
                if (ModelNames.IsValidVersion(version))
                {
                    versions.Add(version);
                }
            }
        }

        versions.Sort(VersionComparer.Instance);
        return versions;
    }

    /// <summary>
    /// Verifies a stored version without keeping the model bytes: signature, manifest, digests (the model's only when
    /// <paramref name="verifyModelDigest"/>, streamed) and policy. Throws <see cref="ModelNotFoundException"/>,
    /// <see cref="ModelVerificationException"/>, or the storage client's exception when the store cannot be reached.
    /// </summary>
    public async Task<VerifiedModelVersion> VerifyAsync(string name, string version, bool verifyModelDigest, CancellationToken cancellationToken = default)
    {
        var (verified, _) = await ReadAsync(name, version, verifyModelDigest ? ModelRead.HashOnly : ModelRead.Skip, cancellationToken).ConfigureAwait(false);
        return verified;
    }

    /// <summary>
    /// Verifies a stored version and returns its model bytes, after the external-data check and a comparison of the
    /// graph with the signed inputs and outputs: the only way to get bytes to create an InferenceSession from.
    /// </summary>
    public async Task<VerifiedModel> LoadAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        var (verified, bytes) = await ReadAsync(name, version, ModelRead.Retain, cancellationToken).ConfigureAwait(false);
        return new VerifiedModel(verified, bytes!);
    }

    private async Task<(VerifiedModelVersion Version, byte[]? ModelBytes)> ReadAsync(string name, string version, ModelRead modelRead, CancellationToken cancellationToken)
    {
        ModelNames.EnsureValidName(name);
        ModelNames.EnsureValidVersion(version);
        try
        {
            var result = await ReadCoreAsync(name, version, modelRead, cancellationToken).ConfigureAwait(false);
            Log.Verified(_logger, name, version, result.Version.ManifestDigest);
            return result;
        }
        catch (ModelVerificationException ex)
        {
            Log.VerificationFailed(_logger, name, version, ex.Failure, ex.Message);
            throw;
        }
    }

    private async Task<(VerifiedModelVersion Version, byte[]? ModelBytes)> ReadCoreAsync(string name, string version, ModelRead modelRead, CancellationToken cancellationToken)
    {
        var manifestBytes = await DownloadSmallAsync(_container.GetBlobClient(ModelStoreLayout.ManifestPath(name, version)), ManifestJson.MaxManifestBytes, cancellationToken).ConfigureAwait(false)
            ?? throw new ModelNotFoundException();
        var signatureBytes = await DownloadSmallAsync(_container.GetBlobClient(ModelStoreLayout.SignaturePath(name, version)), ManifestSignature.MaxSignatureBytes, cancellationToken, ModelVerificationFailure.Signature).ConfigureAwait(false)
            ?? throw new ModelVerificationException(ModelVerificationFailure.Signature, "manifest.sig is missing");

        // 1. Signature over the exact bytes, before anything is parsed.
        var keyId = ManifestSignature.Verify(manifestBytes, signatureBytes, _trustedSigners)
            ?? throw new ModelVerificationException(ModelVerificationFailure.Signature, "no trusted key verifies manifest.sig");

        // 2. The manifest, which must describe the version it is stored as and name the key that signed it.
        var manifest = ManifestJson.Parse(manifestBytes);
        if (manifest.Name != name || manifest.Version != version)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Manifest, "manifest name or version differs from its location");
        }

        if (manifest.SignerKeyId != keyId)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Signature, "manifest names a different signer than the key that verifies it");
        }

        // 3. File digests (streamed).
        var policyBytes = await ReadContentAsync(manifest.Files[ModelStoreLayout.PolicyFile], retain: true, PolicyLoader.MaxPolicyBytes, cancellationToken).ConfigureAwait(false);
        byte[]? modelBytes = null;
        if (modelRead != ModelRead.Skip)
        {
            modelBytes = await ReadContentAsync(manifest.Files[ModelStoreLayout.ModelFile], modelRead == ModelRead.Retain, _options.MaxModelBytes, cancellationToken).ConfigureAwait(false);
        }

        // 4. Policy: schema, strict parse, and fit with the signed inputs and outputs.
        ModelPolicy policy;
        try
        {
            policy = PolicyLoader.Parse(policyBytes);
            PolicyLoader.CheckAgainst(policy, manifest.Inputs, manifest.Outputs);
        }
        catch (PolicyException ex)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Policy, ex.Message, ex);
        }

        // 5. Model bytes: no external data, and the graph is what the manifest says.
        if (modelRead == ModelRead.Retain)
        {
            var proto = OnnxModelInspector.Parse(modelBytes);
            OnnxModelInspector.EnsureNoExternalData(proto);
            var (inputs, outputs) = OnnxModelInspector.Describe(proto);
            if (!SameSpecs(inputs, manifest.Inputs) || !SameSpecs(outputs, manifest.Outputs))
            {
                throw new ModelVerificationException(ModelVerificationFailure.Manifest, "model graph inputs or outputs differ from the manifest");
            }
        }

        // 6. The training profile, when pinned; the policy's screens must have what they need.
        InputProfile? profile = null;
        byte[]? profileBytes = null;
        if (manifest.Files.TryGetValue(ModelStoreLayout.ProfileFile, out var profileFile))
        {
            profileBytes = await ReadContentAsync(profileFile, retain: true, InputProfile.MaxBytes, cancellationToken).ConfigureAwait(false) ?? [];
            profile = ModelPackager.ParseProfile(profileBytes);
        }

        ModelPackager.CheckProfile(policy, profile, manifest.Inputs);
        var verified = new VerifiedModelVersion(manifest, ModelPackager.Sha256Hex(manifestBytes), policy)
        {
            Profile = profile,
            Evidence = new AttestationEvidence(manifestBytes, signatureBytes, policyBytes!, profileBytes),
        };
        return (verified, modelRead == ModelRead.Retain ? modelBytes : null);
    }

    private async Task UploadContentAsync(PackageFile file, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        if (ModelPackager.Sha256Hex(file.Content.Span) != file.Pin.Sha256 || file.Content.Length != file.Pin.Size)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Digest, "package content differs from its pin");
        }

        var blob = _container.GetBlobClient(ModelStoreLayout.ContentPath(file.Pin.Sha256));
        try
        {
            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            EnsureStoredSize(properties.Value.ContentLength, file);
            Log.ContentAlreadyStored(_logger, file.Pin.Sha256);
            return;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Not stored yet: upload below.
        }

        var options = new BlobUploadOptions
        {
            Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            TransferOptions = new StorageTransferOptions
            {
                InitialTransferSize = _options.UploadBlockBytes,
                MaximumTransferSize = _options.UploadBlockBytes,
                MaximumConcurrency = _options.UploadConcurrency,
            },
            ProgressHandler = progress is null ? null : new OffsetProgress(progress, offset),
        };
        try
        {
            await blob.UploadAsync(BinaryData.FromBytes(file.Content), options, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another publisher stored the same content first: content-addressed, so this is the same file.
            var properties = await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            EnsureStoredSize(properties.Value.ContentLength, file);
        }
    }

    private static void EnsureStoredSize(long storedLength, PackageFile file)
    {
        if (storedLength != file.Pin.Size)
        {
            // Write-once storage cannot be repaired by overwriting: refuse rather than publish a version that never verifies.
            throw new ModelVerificationException(ModelVerificationFailure.Digest, "stored content for this digest is corrupt");
        }
    }

    /// <summary>Blob metadata on <c>manifest.sig</c>: the SHA-256 of the manifest bytes it signs.</summary>
    internal const string ManifestDigestMetadata = "manifestsha256";

    /// <summary>
    /// A signature without a manifest is what a publish interrupted between the two writes leaves. When the signed
    /// manifest it names is stored, verifies, is for this name and version, and pins the same files as
    /// <paramref name="package"/>, that earlier manifest is written (the version completes as first signed) and its
    /// digest returned; otherwise null.
    /// </summary>
    private async Task<string?> TryCompleteEarlierPublishAsync(ModelPackage package, BlobClient signatureBlob, BlobClient manifestBlob, CancellationToken cancellationToken)
    {
        var properties = await signatureBlob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!properties.Value.Metadata.TryGetValue(ManifestDigestMetadata, out var digest) || digest.Length != 64)
        {
            return null;
        }

        var signature = await DownloadSmallAsync(signatureBlob, ManifestSignature.MaxSignatureBytes, cancellationToken, ModelVerificationFailure.Signature).ConfigureAwait(false);
        var manifestBytes = await DownloadSmallAsync(_container.GetBlobClient(ModelStoreLayout.ContentPath(digest)), ManifestJson.MaxManifestBytes, cancellationToken).ConfigureAwait(false);
        if (signature is null || manifestBytes is null
            || ModelPackager.Sha256Hex(manifestBytes) != digest
            || ManifestSignature.Verify(manifestBytes, signature, _trustedSigners) is null)
        {
            return null;
        }

        var earlier = ManifestJson.Parse(manifestBytes);
        var wanted = package.Manifest;
        var sameFiles = earlier.Files.Count == wanted.Files.Count
            && earlier.Files.All(f => wanted.Files.TryGetValue(f.Key, out var pin) && pin == f.Value);
        // The same signer too: the version is completed as first signed, and the publisher reports that manifest's
        // digest and signer, which must then be the ones it was asked to publish under.
        if (earlier.Name != wanted.Name || earlier.Version != wanted.Version || earlier.SignerKeyId != wanted.SignerKeyId || !sameFiles)
        {
            return null;
        }

        if (!await TryCreateAsync(manifestBlob, manifestBytes, "application/json", null, cancellationToken).ConfigureAwait(false))
        {
            throw new ModelVersionExistsException(wanted.Name, wanted.Version, "model version already exists; versions are immutable");
        }

        return digest;
    }

    private static async Task<bool> TryCreateAsync(BlobClient blob, ReadOnlyMemory<byte> content, string contentType, IDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        try
        {
            await blob.UploadAsync(
                BinaryData.FromBytes(content),
                new BlobUploadOptions
                {
                    Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                    HttpHeaders = new BlobHttpHeaders { ContentType = contentType },
                    Metadata = metadata,
                },
                cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Downloads a small blob, refusing more than <paramref name="maxBytes"/>; null when it does not exist.</summary>
    // manifest.json or manifest.sig, whose oversize is a failure of that check (Manifest or Signature).
    private static async Task<byte[]?> DownloadSmallAsync(
        BlobClient blob, int maxBytes, CancellationToken cancellationToken, ModelVerificationFailure failure = ModelVerificationFailure.Manifest)
    {
        try
        {
            var response = await blob.DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            using var result = response.Value;
            if (result.Details.ContentLength > maxBytes)
            {
                throw new ModelVerificationException(failure, "a manifest file is larger than allowed");
            }

            using var buffer = new MemoryStream();
            await CopyLimitedAsync(result.Content, buffer, maxBytes, cancellationToken, failure).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    private static async Task CopyLimitedAsync(Stream source, Stream destination, int maxBytes, CancellationToken cancellationToken, ModelVerificationFailure failure)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, CopyBufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    throw new ModelVerificationException(failure, "a manifest file is larger than allowed");
                }

                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Streams a content blob through SHA-256, checking size and digest against the pin; keeps the bytes when asked.</summary>
    private async Task<byte[]?> ReadContentAsync(ManifestFile pin, bool retain, long maxBytes, CancellationToken cancellationToken)
    {
        if (pin.Size > maxBytes)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Model, "file is larger than this store loads");
        }

        BlobDownloadStreamingResult result;
        try
        {
            result = (await _container.GetBlobClient(ModelStoreLayout.ContentPath(pin.Sha256)).DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new ModelVerificationException(ModelVerificationFailure.Digest, "a pinned file is missing from the store");
        }

        using (result)
        {
            if (result.Details.ContentLength != pin.Size)
            {
                throw new ModelVerificationException(ModelVerificationFailure.Digest, "a file's size differs from the manifest");
            }

            var target = retain ? new byte[pin.Size] : null;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferBytes);
            try
            {
                long total = 0;
                int read;
                while ((read = await result.Content.ReadAsync(buffer.AsMemory(0, CopyBufferBytes), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    if (total + read > pin.Size)
                    {
                        throw new ModelVerificationException(ModelVerificationFailure.Digest, "a file's size differs from the manifest");
                    }

                    hash.AppendData(buffer, 0, read);
                    if (target is not null)
                    {
                        Buffer.BlockCopy(buffer, 0, target, (int)total, read);
                    }

                    total += read;
                }

                if (total != pin.Size)
                {
                    throw new ModelVerificationException(ModelVerificationFailure.Digest, "a file's size differs from the manifest");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var digest = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(digest), System.Text.Encoding.ASCII.GetBytes(pin.Sha256)))
            {
                throw new ModelVerificationException(ModelVerificationFailure.Digest, "a file's SHA-256 differs from the manifest");
            }

            return target;
        }
    }

    private static bool SameSpecs(IReadOnlyList<Protocol.TensorSpec> a, IReadOnlyList<Protocol.TensorSpec> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && p.First.DataType == p.Second.DataType && p.First.Shape.AsSpan().SequenceEqual(p.Second.Shape));

    private enum ModelRead
    {
        Skip,
        HashOnly,
        Retain,
    }

    private sealed class OffsetProgress(IProgress<long> inner, long offset) : IProgress<long>
    {
        public void Report(long value) => inner.Report(offset + value);
    }
}
