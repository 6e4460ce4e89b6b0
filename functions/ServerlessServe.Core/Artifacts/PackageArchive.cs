using System.IO.Compression;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Reads an uploaded model version: a zip archive holding <c>model.onnx</c>, <c>policy.json</c>, <c>manifest.json</c>,
/// <c>manifest.sig</c> and optionally <c>profile.json</c>, flat (no folders), each once. Nothing else is accepted, and
/// the expanded size is bounded while reading (an entry's declared size is not trusted), so a zip bomb costs at most
/// <c>maxExpandedBytes</c>. Returns the files by name for <see cref="PackageVerifier"/>; verifies nothing itself.
/// </summary>
public static class PackageArchive
{
    /// <summary>The only names an archive may hold.</summary>
    public static IReadOnlyList<string> AllowedFiles { get; } =
        [ModelStoreLayout.ModelFile, ModelStoreLayout.PolicyFile, ModelStoreLayout.ProfileFile, ModelStoreLayout.ManifestFile, ModelStoreLayout.SignatureFile];

    /// <summary>
    /// The files of the zip archive in <paramref name="archive"/>, at most <paramref name="maxExpandedBytes"/> in all
    /// once expanded. Throws <see cref="ModelVerificationException"/> (<see cref="ModelVerificationFailure.Manifest"/>)
    /// when it is not such an archive.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> ReadAsync(Stream archive, long maxExpandedBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExpandedBytes, 1);
        var files = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        long total = 0;
        try
        {
            using var zip = new ZipArchive(archive, ZipArchiveMode.Read, leaveOpen: true);
            if (zip.Entries.Count > AllowedFiles.Count)
            {
                throw Refused("the package holds files other than a model version's");
            }

            foreach (var entry in zip.Entries)
            {
                if (!AllowedFiles.Contains(entry.FullName, StringComparer.Ordinal) || files.ContainsKey(entry.FullName))
                {
                    throw Refused("the package holds files other than a model version's");
                }

                var stream = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    // Sized from the entry's declared length (never past what may still be expanded), and handed out
                    // without a copy: a file of the package is held once, not grown by doubling and then copied.
                    using var buffer = new MemoryStream((int)Math.Clamp(entry.Length, 0, Math.Min(maxExpandedBytes - total, Array.MaxLength)));
                    var chunk = new byte[81_920];
                    int read;
                    while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        total += read;
                        if (total > maxExpandedBytes)
                        {
                            throw Refused("the package is larger than allowed once expanded");
                        }

                        buffer.Write(chunk, 0, read);
                    }

                    files[entry.FullName] = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or ArgumentException or NotSupportedException or OverflowException)
        {
            // InvalidDataException is what System.IO.Compression documents for a damaged archive; crafted archives
            // have been reported to make readers throw the others too. All of them are a package that is not a zip,
            // never an admin request answered 500 without its audit record.
            throw new ModelVerificationException(ModelVerificationFailure.Manifest, "the package is not a valid zip archive", ex);
        }

        return files;
    }

    /// <summary>The zip archive of <paramref name="package"/> as the admin plane takes it: its files, manifest.json and manifest.sig.</summary>
    public static byte[] Write(ModelPackage package)
    {
        ArgumentNullException.ThrowIfNull(package);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in package.Files)
            {
                Add(zip, file.Name, file.Content.Span);
            }

            Add(zip, ModelStoreLayout.ManifestFile, package.ManifestJson.Span);
            Add(zip, ModelStoreLayout.SignatureFile, System.Text.Encoding.ASCII.GetBytes(package.Signature));
        }

        return buffer.ToArray();
    }

    private static void Add(ZipArchive zip, string name, ReadOnlySpan<byte> content)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        stream.Write(content);
    }

    private static ModelVerificationException Refused(string message) => new(ModelVerificationFailure.Manifest, message);
}
