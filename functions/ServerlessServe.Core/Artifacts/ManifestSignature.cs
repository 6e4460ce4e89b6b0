using System.Security.Cryptography;
using System.Text;

namespace ServerlessServe.Core.Artifacts;

/// <summary><c>manifest.sig</c>: base64 of an IEEE P1363 ECDSA P-256/SHA-256 signature over the exact manifest bytes.</summary>
public static class ManifestSignature
{
    /// <summary>Largest accepted <c>manifest.sig</c> (a P-256 signature is 88 base64 characters).</summary>
    public const int MaxSignatureBytes = 1024;

    private const int P1363Length = 64;

    /// <summary>Signs <paramref name="manifestJson"/> and returns the <c>manifest.sig</c> text.</summary>
    public static string Sign(ReadOnlySpan<byte> manifestJson, ECDsa signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var signature = signer.SignData(manifestJson, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return Convert.ToBase64String(signature);
    }

    /// <summary>
    /// Verifies <c>manifest.sig</c> bytes against the trusted signers; returns the key id that signed, or null when the
    /// signature is malformed or no trusted key verifies it.
    /// </summary>
    public static string? Verify(ReadOnlySpan<byte> manifestJson, ReadOnlySpan<byte> signatureFile, TrustedSigners trusted)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        if (signatureFile.Length > MaxSignatureBytes)
        {
            return null;
        }

        Span<byte> signature = stackalloc byte[P1363Length + 3];
        var text = Encoding.ASCII.GetString(signatureFile).Trim();
        if (!Convert.TryFromBase64String(text, signature, out var written) || written != P1363Length)
        {
            return null;
        }

        return trusted.TryVerify(manifestJson, signature[..written], out var keyId) ? keyId : null;
    }
}
