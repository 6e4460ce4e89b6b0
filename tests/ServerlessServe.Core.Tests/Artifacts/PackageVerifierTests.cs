using System.IO.Compression;
using System.Text;
using ServerlessServe.Core.Artifacts;

namespace ServerlessServe.Core.Tests.Artifacts;

/// <summary>
/// An uploaded version (the admin plane's publish) is read from its zip and verified in memory with the store's checks,
/// in the store's order, before anything is written; the archive reader bounds what it expands.
/// </summary>
public sealed class PackageVerifierTests
{
    [Fact]
    public async Task Verify_SignedPackage_RoundTripsThroughTheArchive()
    {
        var package = TestPackages.CreditRisk("verified", "3");

        var files = await ReadAsync(PackageArchive.Write(package));
        var verified = PackageVerifier.Verify(files, TestPackages.Trusted());

        Assert.Equal((package.ManifestDigest, "verified", "3"), (verified.ManifestDigest, verified.Manifest.Name, verified.Manifest.Version));
        Assert.Equal(package.Files.Select(f => f.Pin), verified.Files.Select(f => f.Pin));
    }

    [Theory]
    [InlineData("untrusted signer", ModelVerificationFailure.Signature)]
    [InlineData("no signature", ModelVerificationFailure.Signature)]
    [InlineData("manifest changed", ModelVerificationFailure.Signature)]
    [InlineData("model changed", ModelVerificationFailure.Digest)]
    [InlineData("policy missing", ModelVerificationFailure.Digest)]
    [InlineData("unpinned file", ModelVerificationFailure.Manifest)]
    public async Task Verify_TamperedPackage_RefusedNamingTheCheck(string tamper, ModelVerificationFailure expected)
    {
        var package = TestPackages.CreditRisk("tampered", "1", signer: tamper == "untrusted signer" ? SigningKeys.CreateP256() : null);
        var files = (await ReadAsync(PackageArchive.Write(package))).ToDictionary(f => f.Key, f => f.Value.ToArray());
        switch (tamper)
        {
            case "no signature":
                files.Remove(ModelStoreLayout.SignatureFile);
                break;
            case "manifest changed":
                files[ModelStoreLayout.ManifestFile] = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(files[ModelStoreLayout.ManifestFile]).Replace("tampered", "tampere2", StringComparison.Ordinal));
                break;
            case "model changed":
                files[ModelStoreLayout.ModelFile][^1] ^= 0x01;
                break;
            case "policy missing":
                files.Remove(ModelStoreLayout.PolicyFile);
                break;
            case "unpinned file":
                files[ModelStoreLayout.ProfileFile] = Encoding.UTF8.GetBytes("{}");
                break;
        }

        var error = Assert.Throws<ModelVerificationException>(() =>
            PackageVerifier.Verify(files.ToDictionary(f => f.Key, f => (ReadOnlyMemory<byte>)f.Value), TestPackages.Trusted()));

        Assert.Equal(expected, error.Failure);
    }

    [Theory]
    [InlineData("other.txt")]
    [InlineData("dir/model.onnx")]
    [InlineData("../model.onnx")]
    public async Task Read_NameOtherThanAVersionsFile_Refused(string name)
    {
        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => ReadAsync(Zip((name, new byte[10]))));

        Assert.Contains("other than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_SameNameTwice_Refused() =>
        await Assert.ThrowsAsync<ModelVerificationException>(() => ReadAsync(Zip((ModelStoreLayout.PolicyFile, [1]), (ModelStoreLayout.PolicyFile, [2]))));

    [Fact]
    public async Task Read_ExpandsBeyondTheLimit_RefusedWhileReading()
    {
        // 8 MiB of zeros compress to a few KiB: the limit is on what is expanded, not on the upload.
        var bomb = Zip((ModelStoreLayout.ModelFile, new byte[8 * 1024 * 1024]));
        Assert.True(bomb.Length < 64 * 1024);

        var error = await Assert.ThrowsAsync<ModelVerificationException>(() => ReadAsync(bomb, maxExpandedBytes: 1024 * 1024));

        Assert.Contains("larger than allowed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_NotAZip_Refused() =>
        await Assert.ThrowsAsync<ModelVerificationException>(() => ReadAsync(Encoding.UTF8.GetBytes("not a zip archive")));

    private static async Task<IReadOnlyDictionary<string, ReadOnlyMemory<byte>>> ReadAsync(byte[] archive, long maxExpandedBytes = 64 * 1024 * 1024)
    {
        using var stream = new MemoryStream(archive);
        return await PackageArchive.ReadAsync(stream, maxExpandedBytes, CancellationToken.None);
    }

    private static byte[] Zip(params (string Name, byte[] Content)[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                stream.Write(content);
            }
        }

        return buffer.ToArray();
    }
}
