using System.Security.Cryptography;

namespace ServerlessServe.Core.Artifacts;

/// <summary>
/// Runtime re-attestation: checks that what an instance holds in memory for a version is still what was signed — the
/// manifest bytes still hash to the version's digest and verify with a trusted key, and every retained file (policy,
/// profile, and model bytes when given) still hashes to its pin.
/// </summary>
public static class ModelAttestation
{
    /// <summary>Null when <paramref name="version"/> (and <paramref name="modelBytes"/>, when given) still match what was signed; otherwise why not.</summary>
    public static string? Check(VerifiedModelVersion version, TrustedSigners trusted, ReadOnlySpan<byte> modelBytes = default, bool checkModelBytes = false)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(trusted);
        if (version.Evidence is not { } evidence)
        {
            return "no evidence retained";
        }

        var files = version.Manifest.Files;
        if (!Matches(evidence.ManifestBytes, version.ManifestDigest))
        {
            return "manifest bytes differ from the manifest digest";
        }

        if (ManifestSignature.Verify(evidence.ManifestBytes, evidence.SignatureBytes, trusted) != version.Manifest.SignerKeyId)
        {
            return "manifest signature no longer verifies";
        }

        if (!Matches(evidence.PolicyBytes, files[ModelStoreLayout.PolicyFile].Sha256))
        {
            return "policy bytes differ from their pin";
        }

        if (files.TryGetValue(ModelStoreLayout.ProfileFile, out var profile) && (evidence.ProfileBytes is null || !Matches(evidence.ProfileBytes, profile.Sha256)))
        {
            return "profile bytes differ from their pin";
        }

        return checkModelBytes && !Matches(modelBytes, files[ModelStoreLayout.ModelFile].Sha256) ? "model bytes differ from their pin" : null;
    }

    private static bool Matches(ReadOnlySpan<byte> bytes, string sha256Hex)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, digest);
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        return Convert.FromHexString(sha256Hex, expected, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == expected.Length
            && CryptographicOperations.FixedTimeEquals(digest, expected);
    }
}
